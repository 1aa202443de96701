"""The site against the real broker: jobs land on playlist.requests, status snapshots reach the websocket."""

import jsonschema
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from kafka_helpers import read_topic
from web_fakes import ORIGIN, FakeIndex, FakeStore, sign_in, web_settings

from dataget.standins.oidc import FakeOIDC
from runtime.topic_admin import ensure_topics
from schemas.generate import load_schema
from schemas.messages import now_iso
from web.app import create_app

pytestmark = pytest.mark.stack


@pytest.fixture
def settings(isolated_settings):
    settings = web_settings(
        public_base_url=ORIGIN, kafka_bootstrap=isolated_settings.kafka_bootstrap, topics=isolated_settings.topics
    )
    ensure_topics(settings)
    return settings


async def publish_status(settings, snapshot):
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topics.playlist_status, orjson.dumps(snapshot), key=snapshot["job_id"].encode()
        )
    finally:
        await producer.stop()


async def test_jobs_are_published_and_status_is_streamed(aiohttp_client, settings):
    store = FakeStore()
    user_id = "google:1234567890"
    # A job whose status was published before this web process started: rebuilt from the compacted topic.
    earlier = {
        "job_id": "00000000-0000-4000-8000-000000000001",
        "user_id": user_id,
        "video_ids": ["a"],
        "requested_at": "2026-03-01T12:00:00Z",
    }
    store.jobs[earlier["job_id"]] = earlier
    done = {
        "job_id": earlier["job_id"],
        "user_id": user_id,
        "seq": 4,
        "state": "done",
        "done": 1,
        "total": 1,
        "skipped": 0,
        "playlist_id": "PLx",
        "error": None,
        # Finished just now: the site keeps a finished job's snapshot a while (older ones come from the store).
        "updated_at": now_iso(),
    }
    jsonschema.validate(done, load_schema("playlist.status"))
    await publish_status(settings, done)

    with FakeOIDC() as oidc:
        app = create_app(settings.with_(**oidc.settings_overrides()), index=FakeIndex().provider, store=store)
        client = await aiohttp_client(app)
        await sign_in(client)
        async with client.ws_connect(f"/ws/playlists/{earlier['job_id']}", headers={"Origin": ORIGIN}) as ws:
            # A "queued" placeholder may come first if the consumer has not read the topic that far yet.
            seen = [await ws.receive_json()]
            while seen[-1]["state"] != "done":
                seen.append(await ws.receive_json())
            assert seen[-1]["playlist_id"] == "PLx"

        resp = await client.post(
            "/api/v1/playlists", json={"title": "Rock", "query": {"genre": ["Rock"]}}, headers={"Origin": ORIGIN}
        )
        assert resp.status == 202
        job_id = (await resp.json())["job_id"]
        async with client.ws_connect(f"/ws/playlists/{job_id}", headers={"Origin": ORIGIN}) as ws:
            assert (await ws.receive_json())["state"] == "queued"
            await publish_status(settings, {**done, "job_id": job_id, "seq": 1, "state": "running", "total": 20})
            running = await ws.receive_json()
            assert (running["state"], running["total"]) == ("running", 20)

    [message] = read_topic(settings, settings.topics.playlist_requests)
    assert message.key == job_id.encode()
    job = orjson.loads(message.value)
    jsonschema.validate(job, load_schema("playlist.requests"), format_checker=jsonschema.FormatChecker())
    assert job["user_id"] == user_id and len(job["video_ids"]) == 20
