"""Request bodies no bigger than their route needs: a 413 before the site reads a byte more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from web.api import error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Routes that take a body, by path pattern: a playlist request is a title and a query (at most 200 values of at most
# 300 characters, schemas/query.py), which fits with room to spare.
BODY_CAPS = {"/api/v1/playlists": 64 * 1024}
# Any other route: none needs a body (sign-out posts an empty form).
OTHER_BODY_CAP = 1024


def body_cap(request: web.Request) -> int:
    resource = request.match_info.route.resource
    return BODY_CAPS.get(resource.canonical if resource is not None else "", OTHER_BODY_CAP)


@web.middleware
async def capped_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    cap = body_cap(request)
    if request.content_length is not None and request.content_length > cap:
        return error_response(413, f"request body too large (at most {cap} bytes here)")
    if request.body_exists:
        # A chunked body has no length up front: reading past the cap raises a 413 (HTTPRequestEntityTooLarge).
        request = request.clone(client_max_size=cap)
    return await handler(request)
