import aiokafka.errors
import jsonschema
import orjson
import pytest
from aiohttp import WSMsgType
from web_fakes import BODY, JSON, ORIGIN, FakeIndex, FakeStore, ListPublisher, sign_in, web_settings

from schemas.generate import load_schema
from web.app import create_app
from web.ports import CTX


@pytest.fixture
def parts():
    return FakeIndex(), FakeStore(), ListPublisher()


@pytest.fixture
def app(oidc, parts):
    index, store, publisher = parts
    settings = web_settings(public_base_url=ORIGIN, **oidc.settings_overrides())
    return create_app(settings, index=index.provider, store=store, publisher=publisher, follow_status_topic=False)


@pytest.fixture
async def client(aiohttp_client, app):
    client = await aiohttp_client(app)
    await sign_in(client)
    return client


def snapshot(job_id, seq, state="running", done=0, **extra):
    return {
        "job_id": job_id,
        "user_id": "google:1234567890",
        "seq": seq,
        "state": state,
        "done": done,
        "total": 7,
        "skipped": 0,
        "playlist_id": None,
        "error": None,
        "updated_at": "2026-03-01T12:00:00Z",
        **extra,
    }


async def create_job(client):
    resp = await client.post("/api/v1/playlists", json=BODY, headers={"Origin": ORIGIN})
    assert resp.status == 202, await resp.text()
    return (await resp.json())["job_id"]


async def test_create_publishes_a_schema_valid_job(client, parts):
    index, store, publisher = parts
    job_id = await create_job(client)
    [job] = publisher.published
    jsonschema.validate(job, load_schema("playlist.requests"), format_checker=jsonschema.FormatChecker())
    assert job["job_id"] == job_id
    assert job["user_id"] == "google:1234567890"
    assert (job["title"], job["privacy"]) == ("Jazz sampler", "unlisted")
    assert len(job["video_ids"]) == 7 and len(set(job["video_ids"])) == 7
    # The seed is fixed in the job, and the index was asked with it: the job is reproducible.
    assert job["query"]["genre"] == ["Jazz"] and isinstance(job["query"]["seed"], int)
    assert (index.queries[-1].seed, index.queries[-1].limit) == (job["query"]["seed"], 7)
    assert store.jobs[job_id]["video_ids"] == job["video_ids"]


async def test_a_job_kafka_did_not_take_is_a_503_and_leaves_no_request(client, parts, monkeypatch):
    _, store, publisher = parts

    async def kafka_down(job):
        raise aiokafka.errors.KafkaTimeoutError()

    monkeypatch.setattr(publisher, "publish", kafka_down)
    resp = await client.post("/api/v1/playlists", json=BODY, headers={"Origin": ORIGIN})
    assert resp.status == 503 and resp.headers["Retry-After"]
    assert store.jobs == {}


async def test_create_keeps_a_given_seed(client, parts):
    index, _, publisher = parts
    body = {**BODY, "query": {"genre": ["Jazz"], "seed": 99, "unique": "master"}}
    resp = await client.post("/api/v1/playlists", json=body, headers={"Origin": ORIGIN})
    assert resp.status == 202
    assert publisher.published[0]["query"] == {"genre": ["Jazz"], "seed": 99, "unique": "master"}
    assert index.queries[-1].unique == "master"


async def test_create_needs_sign_in(aiohttp_client, app, parts):
    anonymous = await aiohttp_client(app)
    resp = await anonymous.post("/api/v1/playlists", json=BODY, headers={"Origin": ORIGIN})
    assert resp.status == 401
    assert parts[2].published == []


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Origin": "http://evil.test", "Content-Type": "application/json"}, BODY, 403),
        ({"Content-Type": "application/json"}, BODY, 403),
        ({"Origin": ORIGIN, "Content-Type": "text/plain"}, BODY, 415),
        (JSON, "not json", 400),
        (JSON, {**BODY, "privacy": "public"}, 400),
        (JSON, {**BODY, "max_videos": 5001}, 400),
        (JSON, {**BODY, "title": " "}, 400),
        (JSON, {**BODY, "colour": "red"}, 400),
        (JSON, {**BODY, "query": {"decade": ["1975"]}}, 400),
        (JSON, {**BODY, "query": {"genre": ["Polka"]}}, 422),
    ],
)
async def test_create_rejections(client, parts, headers, body, status):
    data = body if isinstance(body, str) else orjson.dumps(body)
    resp = await client.post("/api/v1/playlists", data=data, headers=headers)
    assert resp.status == status
    assert "error" in await resp.json()
    assert parts[2].published == []


async def test_status_before_and_after_worker_reports(client, app):
    job_id = await create_job(client)
    first = await (await client.get(f"/api/v1/playlists/{job_id}")).json()
    assert (first["state"], first["seq"], first["total"]) == ("queued", 0, 7)
    jsonschema.validate(first, load_schema("playlist.status"))
    app[CTX].hub.apply(snapshot(job_id, 3, done=2))
    latest = await (await client.get(f"/api/v1/playlists/{job_id}")).json()
    assert (latest["seq"], latest["done"]) == (3, 2)


async def test_other_users_cannot_see_a_job(aiohttp_client, app, client):
    job_id = await create_job(client)
    anonymous = await aiohttp_client(app)
    assert (await anonymous.get(f"/api/v1/playlists/{job_id}")).status == 401
    app[CTX].store.jobs[job_id]["user_id"] = "google:someone-else"
    assert (await client.get(f"/api/v1/playlists/{job_id}")).status == 404
    assert (await client.get("/api/v1/playlists/no-such-job")).status == 404


async def test_websocket_streams_snapshots_in_order_and_closes_when_done(client, app):
    job_id = await create_job(client)
    hub = app[CTX].hub
    hub.apply(snapshot(job_id, 1, done=0))
    async with client.ws_connect(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN}) as ws:
        assert (await ws.receive_json())["seq"] == 1  # the latest, right on connect
        hub.apply(snapshot(job_id, 2, done=3))
        assert (await ws.receive_json())["done"] == 3
        hub.apply(snapshot(job_id, 2, done=99))  # replayed seq: dropped
        hub.apply(snapshot(job_id, 5, state="done", done=7, playlist_id="PL1"))
        final = await ws.receive_json()
        assert (final["seq"], final["state"], final["playlist_id"]) == (5, "done", "PL1")
        assert (await ws.receive()).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_websocket_sends_queued_snapshot_before_the_worker_reports(client):
    job_id = await create_job(client)
    async with client.ws_connect(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN}) as ws:
        assert (await ws.receive_json())["state"] == "queued"


async def test_websocket_resumes_after_since(client, app):
    job_id = await create_job(client)
    hub = app[CTX].hub
    hub.apply(snapshot(job_id, 4, done=4))
    async with client.ws_connect(f"/ws/playlists/{job_id}?since=4", headers={"Origin": ORIGIN}) as ws:
        hub.apply(snapshot(job_id, 6, done=6))
        assert (await ws.receive_json())["seq"] == 6


async def test_websocket_refuses_foreign_origin_and_strangers(aiohttp_client, client, app):
    job_id = await create_job(client)
    foreign = await client.get(f"/ws/playlists/{job_id}", headers={"Origin": "http://evil.test"})
    assert foreign.status == 403
    anonymous = await aiohttp_client(app)
    stranger = await anonymous.get(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN})
    assert stranger.status == 401


async def test_shutdown_closes_open_sockets(client, app):
    job_id = await create_job(client)
    async with client.ws_connect(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN}) as ws:
        await ws.receive_json()
        app[CTX].hub.close()
        msg = await ws.receive()
        assert msg.type == WSMsgType.CLOSE
        assert msg.data == 1001


async def test_more_videos_than_a_day_of_quota_is_a_429_that_says_what_to_do(client, parts):
    resp = await client.post("/api/v1/playlists", json={**BODY, "max_videos": 200}, headers={"Origin": ORIGIN})
    assert resp.status == 429
    message = (await resp.json())["error"]
    assert message.startswith("a playlist here holds at most 199 videos") and "needs no quota" in message
    assert parts[2].published == [] and parts[1].jobs == {}


async def test_a_user_has_two_unfinished_playlists_at_most(client, parts):
    _, store, publisher = parts
    first, _second = await create_job(client), await create_job(client)
    refused = await client.post("/api/v1/playlists", json=BODY, headers={"Origin": ORIGIN})
    assert refused.status == 429
    assert (await refused.json())["error"].startswith("you have 2 playlists still being built")
    assert len(publisher.published) == 2
    store.job_statuses[first] = snapshot(first, 9, state="done", done=7)  # the worker finished one
    assert (await client.post("/api/v1/playlists", json=BODY, headers={"Origin": ORIGIN})).status == 202
