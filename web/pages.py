"""Pages for people: /releases/{id} and /masters/{id} as HTML, and the HTML 404 page for every path outside the API."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from web.caching import RECORD_CACHE, cached
from web.page_html import master_page, not_found_page, release_page
from web.ports import CTX

# Answered in JSON whatever happens (web/api.py); everything else is a page.
API_PREFIXES = ("/api/", "/auth/", "/ws/")
# Discogs ids are positive and fit 63 bits; longer digit strings are no id (and an int() of them costs time).
_ID = r"{id:[1-9][0-9]{0,17}}"


def html_response(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def not_found(what: str) -> web.Response:
    return html_response(not_found_page(what), status=404)


async def release(request: web.Request) -> web.Response:
    release_id = int(request.match_info["id"])
    doc = await request.app[CTX].store.get_release(release_id)
    if doc is None:
        return not_found(f"This catalogue has no release {release_id}.")
    return cached(request, html_response(release_page(doc)), RECORD_CACHE)


async def master(request: web.Request) -> web.Response:
    master_id = int(request.match_info["id"])
    doc = await request.app[CTX].store.get_master(master_id)
    if doc is None:
        return not_found(f"This catalogue has no master release {master_id}.")
    return cached(request, html_response(master_page(doc)), RECORD_CACHE)


@web.middleware
async def not_found_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A path that names nothing gets a page with a way back, not a bare "404: Not Found"."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if request.path.startswith(API_PREFIXES):
            raise
        return not_found("There is nothing at this address.")


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"/releases/{_ID}", release)
    app.router.add_get(f"/masters/{_ID}", master)
