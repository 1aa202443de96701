"""Conditional GET and Cache-Control: which answers a browser or a proxy may keep, and for how long (pure).

An answer of the index (counts, samples of a seeded query, facet values) is named by the index's generation
(FacetIndex.generation: the active version and its write counter), known before the answer is computed, so a
matching If-None-Match costs one small script call instead of the query. A document (a release, a page, the API
description) is named by a hash of its bytes. Answers about a visitor (session, playlists) are never stored.
"""

from __future__ import annotations

import hashlib

from aiohttp import web
from aiohttp.typedefs import Handler

# An index answer is fresh this long, then revalidated: a write shows within seconds, and a visitor stepping back
# and forth through a selection gets it from the browser's cache.
INDEX_CACHE = "public, max-age=10"
# A record changes with the monthly dump at most.
RECORD_CACHE = "public, max-age=300"
# The API description changes with a deployment.
DESCRIPTION_CACHE = "public, max-age=3600"
NO_STORE = "no-store"
# Part of every index ETag, so a deployment that changes an answer's shape changes its tag too.
ANSWER_FORMAT = "1"


def index_etag(generation: str) -> str:
    """The ETag of an index answer; per URL, so the generation alone tells two answers of one URL apart."""
    return '"i' + hashlib.sha1(f"{ANSWER_FORMAT}:{generation}".encode()).hexdigest()[:20] + '"'


def body_etag(body: bytes) -> str:
    return '"b' + hashlib.sha1(body).hexdigest()[:20] + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match holds etag (weak comparison, RFC 9110 13.1.2) or is `*`."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in (tag.removeprefix("W/") for tag in tags)


def not_modified(etag: str, cache_control: str) -> web.Response:
    return web.Response(status=304, headers={"ETag": etag, "Cache-Control": cache_control})


def cached(request: web.Request, response: web.Response, cache_control: str, etag: str | None = None) -> web.Response:
    """response with its validators; a 304 instead when the request already holds it (etag defaults to a hash of
    the body)."""
    if response.status != 200:
        response.headers["Cache-Control"] = NO_STORE
        return response
    tag = etag or body_etag(response.body if isinstance(response.body, bytes) else b"")
    if request.method in ("GET", "HEAD") and matches(request.headers.get("If-None-Match"), tag):
        return not_modified(tag, cache_control)
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = cache_control
    return response


@web.middleware
async def no_store_by_default(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An answer that says nothing of caching is not stored: sessions, playlists and errors are the visitor's own."""
    response = await handler(request)
    if isinstance(response, web.Response) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = NO_STORE
    return response
