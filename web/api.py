"""Read-only JSON API: facet queries, facet value autocomplete, release documents."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from runtime.unreachable import unreachable_server
from schemas.query import FACETS, IndexFormatError, QueryResult
from web.ports import CTX
from web.query_params import QueryError, parse_query

FACET_VALUES_MAX = 100
# Seconds a client is asked to wait when a server behind the site does not answer (a restart takes about this).
RETRY_AFTER_S = "5"
log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200) -> web.Response:
    # orjson: 1.4 µs for a 50-video result where the stdlib encoder takes 23 µs.
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error_response(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


@web.middleware
async def unavailable_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A clear 503 rather than a 500 with a traceback while the site can't answer: an index of an older layout
    (until an operator rebuilds it), or a server behind the site that does not answer (until it is back)."""
    try:
        return await handler(request)
    except IndexFormatError as exc:
        log.error("%s", exc)
        return error_response(503, "the search index is out of date and must be rebuilt; try again later")
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


async def query(request: web.Request) -> web.Response:
    try:
        facet_query = parse_query(request.query)
    except QueryError as exc:
        return error_response(400, str(exc))
    index = await request.app[CTX].index()
    return json_response(result_json(await index.query(facet_query)))


async def facet_values(request: web.Request) -> web.Response:
    facet = request.match_info["facet"]
    if facet not in FACETS:
        return error_response(400, f"unknown facet {facet!r}; facets are {', '.join(FACETS)}")
    raw_limit = request.query.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= FACET_VALUES_MAX:
        return error_response(400, f"limit: must be an integer between 1 and {FACET_VALUES_MAX}")
    index = await request.app[CTX].index()
    try:
        values = await index.facet_values(facet, prefix=request.query.get("prefix", ""), limit=int(raw_limit))
    except ValueError as exc:
        return error_response(400, str(exc))
    return json_response([{"value": v.value, "releases": v.releases} for v in values])


def release_json(doc: dict[str, Any]) -> dict[str, Any]:
    """The stored release as its record (the document's `_id` is only the store's key)."""
    return {k: v for k, v in doc.items() if k != "_id"}


async def release(request: web.Request) -> web.Response:
    raw = request.match_info["release_id"]
    if not raw.isdigit():
        return error_response(400, f"release id {raw!r} is not an integer")
    doc = await request.app[CTX].store.get_release(int(raw))
    if doc is None:
        return error_response(404, f"release {raw} not found")
    return json_response(release_json(doc))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/query", query)
    app.router.add_get("/api/v1/facets/{facet}", facet_values)
    app.router.add_get("/api/v1/releases/{release_id}", release)
