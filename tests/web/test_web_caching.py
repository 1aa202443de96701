"""Conditional GET helpers: ETags, If-None-Match matching, 304s, and no-store for answers that say nothing."""

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from web.caching import INDEX_CACHE, NO_STORE, body_etag, cached, index_etag, matches, no_store_by_default


def test_index_etags_name_generations():
    assert index_etag("dataget:v1@5") == index_etag("dataget:v1@5")
    assert index_etag("dataget:v1@5") != index_etag("dataget:v1@6") != index_etag("dataget:v2@6")
    assert index_etag("x").startswith('"') and index_etag("x").endswith('"')
    assert body_etag(b"a") != body_etag(b"b")


def test_if_none_match_lists_weak_tags_and_star():
    tag = '"i123"'
    assert matches(tag, tag)
    assert matches(f'"other", W/{tag}', tag)
    assert matches("*", tag)
    assert not matches('"i124"', tag)
    assert not matches(None, tag) and not matches("", tag)


def test_cached_answers_304_only_to_a_matching_get():
    fresh = cached(make_mocked_request("GET", "/x"), web.Response(body=b"{}"), INDEX_CACHE, '"t"')
    assert (fresh.status, fresh.headers["ETag"], fresh.headers["Cache-Control"]) == (200, '"t"', INDEX_CACHE)
    again = cached(make_mocked_request("GET", "/x", headers={"If-None-Match": '"t"'}), web.Response(body=b"{}"),
                   INDEX_CACHE, '"t"')
    assert again.status == 304 and again.headers["ETag"] == '"t"' and not again.body
    by_body = cached(make_mocked_request("GET", "/x"), web.Response(body=b"abc"), INDEX_CACHE)
    assert by_body.headers["ETag"] == body_etag(b"abc")
    error = cached(make_mocked_request("GET", "/x"), web.Response(status=404, body=b"{}"), INDEX_CACHE, '"t"')
    assert error.headers["Cache-Control"] == NO_STORE and "ETag" not in error.headers


async def test_answers_without_cache_control_are_not_stored():
    async def plain(_request: web.Request) -> web.Response:
        return web.Response(text="private")

    async def kept(_request: web.Request) -> web.Response:
        return web.Response(text="public", headers={"Cache-Control": INDEX_CACHE})

    request = make_mocked_request("GET", "/")
    assert (await no_store_by_default(request, plain)).headers["Cache-Control"] == NO_STORE
    assert (await no_store_by_default(request, kept)).headers["Cache-Control"] == INDEX_CACHE
