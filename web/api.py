"""Read-only JSON API: facet queries, facet value autocomplete, release documents."""

from __future__ import annotations

import asyncio
import errno
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiDict
from redis.exceptions import OutOfMemoryError

from runtime.unreachable import unreachable_server
from schemas.query import FACETS, MAX_VALUE_LENGTH, FacetQuery, IndexFormatError, QueryResult
from schemas.records import Release
from web.caching import INDEX_CACHE, RECORD_CACHE, cached, index_etag, matches, not_modified
from web.ports import CTX, ReleaseIndex
from web.query_params import QueryError, parse_int, parse_query
from web.rate_limit import SiteBusy

FACET_VALUES_DEFAULT = 20
FACET_VALUES_MAX = 100
# Discogs ids are positive; the store keys them as 64-bit integers would fit.
RELEASE_ID_MAX = 2**63 - 1
# Seconds a client is asked to wait when a server behind the site does not answer (a restart takes about this).
RETRY_AFTER_S = "5"
log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200) -> web.Response:
    # orjson: 1.4 µs for a 50-video result where the stdlib encoder takes 23 µs.
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


async def read_json(request: web.Request) -> object:
    """The body as JSON: UTF-8 whatever charset the request names (RFC 8259), nesting depth bounded by orjson.

    Raises QueryError when it is not JSON, HTTPRequestEntityTooLarge past the route's body cap (web/body_limits.py).
    """
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise QueryError("body is not valid JSON") from exc


def _http_error_json(exc: web.HTTPException) -> web.Response:
    # aiohttp's own text is "404: Not Found"; a handler's is a sentence meant for the visitor.
    default = f"{exc.status}: {exc.reason}"
    response = error_response(exc.status, exc.reason.lower() if exc.text in (None, default) else str(exc.text))
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is JSON: refusals raised as HTTP exceptions, and bugs (a 500 that logs its traceback and shows
    none)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return _http_error_json(exc)
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        # aiohttp's static route looks a requested name up as is: one longer than the file system allows names none.
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            return error_response(404, "not found")
        log.exception("%s %r failed", request.method, request.path)  # %r: a path cannot forge log lines
        return error_response(500, "internal error")


@web.middleware
async def unavailable_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A clear 503 rather than a 500 with a traceback while the site can't answer: an index of an older layout
    (until an operator rebuilds it), or a server behind the site that does not answer (until it is back)."""
    try:
        return await handler(request)
    except IndexFormatError as exc:
        log.error("%s", exc)
        return error_response(503, "the search index is out of date and must be rebuilt; try again later")
    except OutOfMemoryError:
        # Redis at its maxmemory refuses the temporary keys a query writes; the index workers stop short of it.
        log.error("the index's Redis is at its maxmemory: queries fail until memory is freed or raised")
        response = error_response(503, "the search index is full right now; try again later")
        response.headers["Retry-After"] = RETRY_AFTER_S
        return response
    except SiteBusy as exc:
        response = error_response(503, "the site is busy; try again in a moment")
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response
    except Exception as exc:
        server = unreachable_server(exc, request.app[CTX].settings)
        if server is None:
            raise
        # The server's address is for the operator's log, not for the visitor.
        log.error("%s does not answer (%s: %s)", server, type(exc).__name__, exc)
        response = error_response(503, "the site can't reach its data right now; try again in a moment")
        response.headers["Retry-After"] = RETRY_AFTER_S
        return response


def result_json(result: QueryResult) -> dict[str, Any]:
    # Dicts built by hand: dataclasses.asdict deep-copies, ~2 µs per sampled video.
    return {
        "releases": result.releases,
        "videos": result.videos,
        "sample": [{"video_id": v.video_id, "release_id": v.release_id, "title": v.title} for v in result.sample],
    }


async def index_answer(request: web.Request, index: ReleaseIndex,
                       compute: Callable[[], Awaitable[Any]]) -> web.Response:
    """An answer of the index with its ETag; a 304 without computing it when the request holds that ETag.

    The generation is read first: a write landing before the answer then only makes the tag older than the answer
    (the next request gets the answer again), never newer.
    """
    etag = index_etag(await index.generation())
    if matches(request.headers.get("If-None-Match"), etag):
        return not_modified(etag, INDEX_CACHE)
    return cached(request, json_response(await compute()), INDEX_CACHE, etag)


async def query(request: web.Request) -> web.Response:
    try:
        facet_query = parse_query(request.query)
    except QueryError as exc:
        return error_response(400, str(exc))
    index = await request.app[CTX].index()
    if facet_query.seed is None:  # a fresh random sample every time: nothing to keep
        return json_response(result_json(await index.query(facet_query)))
    if request.headers.get("If-None-Match"):  # maybe answered by its tag alone
        return await index_answer(request, index, lambda: _query_json(index, facet_query))
    # The answer names the generation that computed it: one call to the index, not two.
    result = await index.query(facet_query)
    return cached(request, json_response(result_json(result)), INDEX_CACHE, index_etag(result.generation))


async def _query_json(index: ReleaseIndex, facet_query: FacetQuery) -> dict[str, Any]:
    return result_json(await index.query(facet_query))


async def facet_values(request: web.Request) -> web.Response:
    facet = request.match_info["facet"]
    if facet not in FACETS:
        return error_response(400, f"unknown facet; facets are {', '.join(FACETS)}")
    prefix = request.query.get("prefix", "")
    try:
        # The other parameters are a selection, as in /api/v1/query; `limit` is how many values.
        within = parse_query(MultiDict((k, v) for k, v in request.query.items() if k != "prefix"),
                             default_limit=FACET_VALUES_DEFAULT, max_limit=FACET_VALUES_MAX)
    except QueryError as exc:
        return error_response(400, str(exc))
    if len(prefix) > MAX_VALUE_LENGTH:
        return error_response(400, f"prefix: at most {MAX_VALUE_LENGTH} characters")
    index = await request.app[CTX].index()
    return await index_answer(request, index, lambda: _facet_values_json(index, facet, prefix, within))


async def _facet_values_json(index: ReleaseIndex, facet: str, prefix: str, within: FacetQuery) -> list[dict[str, Any]]:
    """Counted within the other facets' values when there are any, else in the whole index (cheaper)."""
    if any(f != facet for f in within.facets):
        values = await index.facet_counts(facet, within, prefix, within.limit)
    else:
        values = await index.facet_values(facet, prefix, within.limit)
    return [{"value": v.value, "releases": v.releases} for v in values]


def release_json(doc: Release) -> dict[str, Any]:
    """The stored release as its record (the document's `_id` is only the store's key)."""
    return {k: v for k, v in doc.items() if k != "_id"}


async def release(request: web.Request) -> web.Response:
    try:
        release_id = parse_int("release id", request.match_info["release_id"], 1, RELEASE_ID_MAX)
    except QueryError as exc:
        return error_response(400, str(exc))
    doc = await request.app[CTX].store.get_release(release_id)
    if doc is None:
        return error_response(404, f"release {release_id} not found")
    return cached(request, json_response(release_json(doc)), RECORD_CACHE)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/query", query)
    app.router.add_get("/api/v1/facets/{facet}", facet_values)
    app.router.add_get("/api/v1/releases/{release_id}", release)
