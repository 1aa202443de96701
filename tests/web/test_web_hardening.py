"""Bad input is a 400 with a JSON error (never a 500), and no request may make the site work without bound."""

import orjson
import pytest
from aiohttp import WSMsgType
from web_fakes import BODY, JSON, ORIGIN, FakeIndex, FakeStore, ListPublisher, sign_in, web_settings

from schemas.query import MAX_QUERY_VALUES, MAX_VALUES_PER_FACET
from web.app import create_app
from web.body_limits import BODY_CAPS
from web.ports import CTX
from web.status_hub import MAX_SOCKETS_PER_USER


def make_app(oidc, index=None, **changes):
    settings = web_settings(public_base_url=ORIGIN, **{**oidc.settings_overrides(), **changes})
    return create_app(settings, index=(index or FakeIndex()).provider, store=FakeStore(), publisher=ListPublisher(),
                      follow_status_topic=False)


@pytest.fixture
async def client(aiohttp_client, oidc):
    return await aiohttp_client(make_app(oidc))


@pytest.fixture
async def signed_in(client):
    await sign_in(client)
    return client


async def error_of(resp, status):
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    return (await resp.json())["error"]


@pytest.mark.parametrize("qs", [
    "seed=" + "9" * 5000,  # int() refuses more than 4,300 digits
    "limit=" + "1" * 5000,
    "limit=%C2%B2",  # '²': str.isdigit() says yes, int() says no
    "seed=%D9%A3",  # '٣' (Arabic-Indic three): a \\d digit
    f"seed={2**63}",
])
async def test_malformed_numbers_in_a_query_are_400s(client, qs):
    error = await error_of(await client.get(f"/api/v1/query?{qs}"), 400)
    assert len(error) < 200  # the bad value is quoted cut short, never whole


@pytest.mark.parametrize("path", ["/api/v1/releases/%C2%B2", "/api/v1/releases/" + "7" * 5000,
                                  "/api/v1/facets/genre?limit=%C2%B2", "/api/v1/facets/genre?prefix=" + "a" * 301])
async def test_malformed_ids_and_limits_are_400s(client, path):
    await error_of(await client.get(path), 400)


async def test_values_per_facet_and_per_query_are_capped_with_a_400_naming_the_cap(client):
    many = "&".join(f"label=L{n}" for n in range(MAX_VALUES_PER_FACET + 1))
    assert str(MAX_VALUES_PER_FACET) in await error_of(await client.get(f"/api/v1/query?{many}"), 400)
    spread = "&".join(f"{facet}=V{n}" for facet in ("label", "artist", "style")
                      for n in range(MAX_QUERY_VALUES // 3 + 1))
    assert str(MAX_QUERY_VALUES) in await error_of(await client.get(f"/api/v1/query?{spread}"), 400)


async def test_repeated_values_count_once(client):
    repeated = "&".join(["genre=Jazz"] * (MAX_VALUES_PER_FACET * 3))
    assert (await client.get(f"/api/v1/query?{repeated}")).status == 200


async def test_a_huge_playlist_request_is_refused_before_it_is_read(signed_in):
    values = [f"Label {n}" for n in range(120_000)]  # about 1.4 MB: once minutes of quadratic de-duplication
    body = {**BODY, "query": {"label": values}}
    resp = await signed_in.post("/api/v1/playlists", data=orjson.dumps(body), headers=JSON)
    assert "too large" in await error_of(resp, 413)


async def test_a_chunked_body_past_the_cap_is_a_413(signed_in):
    cap = BODY_CAPS["/api/v1/playlists"]

    async def chunks():
        yield orjson.dumps(BODY)[:-1] + b', "pad": "'
        for _ in range(cap // 1024 + 1):
            yield b"x" * 1024
        yield b'"}'

    resp = await signed_in.post("/api/v1/playlists", data=chunks(), headers=JSON)
    await error_of(resp, 413)


async def test_routes_without_a_body_take_none(signed_in):
    resp = await signed_in.post("/auth/logout", data=b"x" * 10_000, headers={"Origin": ORIGIN})
    await error_of(resp, 413)


@pytest.mark.parametrize(("body", "headers"), [
    (orjson.dumps({**BODY, "query": {"genre": ["Jazz"], "seed": 2**63}}), JSON),  # BSON has no such integer
    (orjson.dumps(BODY).replace(b'"Jazz"]', b'"Jazz"],"seed":-9223372036854775809'), JSON),
    (b"[" * 10_000 + b"]" * 10_000, JSON),  # deeply nested: Python's json recursed until RecursionError
    (orjson.dumps(BODY).replace(b"Jazz", b"J\xffzz"), JSON),  # not UTF-8
    (orjson.dumps({**BODY, "query": {"label": ["x" * 301]}}), JSON),
])
async def test_bad_playlist_bodies_are_400s(signed_in, body, headers):
    await error_of(await signed_in.post("/api/v1/playlists", data=body, headers=headers), 400)


async def test_json_is_read_as_utf_8_whatever_charset_is_named(signed_in):
    headers = {**JSON, "Content-Type": "application/json; charset=no-such-charset"}  # LookupError: a 500 once
    assert (await signed_in.post("/api/v1/playlists", data=orjson.dumps(BODY), headers=headers)).status == 202


async def test_a_non_ascii_state_at_the_callback_is_a_400(client):
    await client.get("/auth/login", allow_redirects=False)
    resp = await client.get("/auth/callback?code=c&state=%C3%A9t%C3%A9", allow_redirects=False)
    assert "state" in await error_of(resp, 400)


async def test_unknown_routes_and_methods_answer_json(client):
    await error_of(await client.get("/api/v1/nothing-here"), 404)
    resp = await client.delete("/api/v1/query")
    await error_of(resp, 405)
    assert "GET" in resp.headers["Allow"]


async def test_a_bug_is_a_json_500_without_a_traceback(aiohttp_client, oidc, caplog):
    index = FakeIndex()

    async def broken(query):
        raise RuntimeError("secret internals")

    index.query = broken
    client = await aiohttp_client(make_app(oidc, index=index))
    resp = await client.get("/api/v1/query")
    error = await error_of(resp, 500)
    assert "secret" not in error and "Traceback" not in await resp.text()
    assert "secret internals" in caplog.text  # the operator's log has it


async def test_status_sockets_are_capped_per_user(signed_in):
    resp = await signed_in.post("/api/v1/playlists", data=orjson.dumps(BODY), headers=JSON)
    job_id = (await resp.json())["job_id"]
    sockets = [await signed_in.ws_connect(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN})
               for _ in range(MAX_SOCKETS_PER_USER)]
    refused = await signed_in.get(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN})
    assert "per user" in await error_of(refused, 429)
    await sockets[0].close()
    again = await signed_in.ws_connect(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN})
    assert (await again.receive_json())["state"] == "queued"
    for ws in (*sockets[1:], again):
        await ws.close()


@pytest.mark.parametrize("since", ["%C2%B2", "--5", "9" * 30])
async def test_a_bad_since_is_a_400(signed_in, since):
    resp = await signed_in.post("/api/v1/playlists", data=orjson.dumps(BODY), headers=JSON)
    job_id = (await resp.json())["job_id"]
    await error_of(await signed_in.get(f"/ws/playlists/{job_id}?since={since}", headers={"Origin": ORIGIN}), 400)


async def test_a_job_finished_long_ago_shows_its_saved_status_not_queued(aiohttp_client, oidc):
    store = FakeStore()
    app = create_app(web_settings(public_base_url=ORIGIN, **oidc.settings_overrides()), index=FakeIndex().provider,
                     store=store, publisher=ListPublisher(), follow_status_topic=False)
    client = await aiohttp_client(app)
    await sign_in(client)
    job_id = (await (await client.post("/api/v1/playlists", data=orjson.dumps(BODY), headers=JSON)).json())["job_id"]
    final = {"job_id": job_id, "user_id": "google:1234567890", "seq": 9, "state": "done", "done": 7, "total": 7,
             "skipped": 0, "playlist_id": "PL1", "error": None, "updated_at": "2026-01-01T00:00:00Z"}
    app[CTX].hub.apply(final)  # read from the status topic's start: ended too long ago to be kept in memory
    assert app[CTX].hub.latest(job_id) is None
    store.job_statuses[job_id] = final
    assert await (await client.get(f"/api/v1/playlists/{job_id}")).json() == final
    async with client.ws_connect(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN}) as ws:
        assert (await ws.receive_json())["state"] == "done"
        assert (await ws.receive()).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_an_overlong_static_file_name_is_a_404(client):
    # aiohttp's static route stat()s the name as given: ENAMETOOLONG was a 500 (found by the property tests)
    for method in ("GET", "HEAD"):
        resp = await client.request(method, "/static/" + "9" * 300)
        assert resp.status == 404
