"""Sign in with (fake) Google, request a playlist, watch its progress over the websocket, find it on (fake) YouTube.

Everything else is real: the aiohttp site, Kafka topics, FerretDB, the Redis index and the YouTube worker.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest
from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from dataget.stack.process import free_port
from dataget.standins.oidc import FakeOIDC
from dataget.standins.youtube import FakeYouTube
from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from sinks.facet_index import FacetIndex
from sinks.index_versions import active_index_namespace
from stream_processors.youtube.consumer import run_worker
from tests.kafka_helpers import read_topic
from web.app import create_app

pytestmark = pytest.mark.stack

VIDEOS = {
    1001: ["dQw4w9WgXcQ", "yPYZpwSpKmA"],
    1002: ["9bZkp7q19f0"],
    1003: ["kJQP7kiw5Fk", "OPf0YbXqDm0", "JGwWNGJdvx8"],
    1004: ["hT_nvWreIhg"],  # another genre: must not end up in the playlist
}


def _release(release_id: int, genre: str) -> dict:
    return {
        "id": release_id, "title": f"Album {release_id}", "genres": [genre], "styles": [], "country": "UK",
        "released": "1999-01-01", "labels": [{"id": 1, "name": "Label", "catno": "X1"}],
        "artists": [{"id": 7, "name": "Artist", "anv": None, "join": None, "role": None, "tracks": None}],
        "formats": [{"name": "CD", "qty": "1", "text": None, "descriptions": []}], "master_id": None,
        "videos": [{"src": f"https://www.youtube.com/watch?v={v}", "youtube_id": v, "duration": 200, "embed": True,
                    "title": f"Track {v}", "description": None} for v in VIDEOS[release_id]],
    }


@pytest.fixture
def google():
    with FakeOIDC() as oidc, FakeYouTube(token_validator=oidc.is_valid_access_token) as youtube:
        for ids in VIDEOS.values():
            for video_id in ids:
                youtube.add_video(video_id)
        yield oidc, youtube


async def test_sign_in_request_playlist_and_watch_it_complete(isolated_settings: Settings, google) -> None:
    from cryptography.fernet import Fernet

    oidc, youtube = google
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = isolated_settings.with_(
        public_base_url=base, token_key=Fernet.generate_key().decode(), session_secret=Fernet.generate_key().decode(),
        **oidc.settings_overrides(), **youtube.settings_overrides(with_token_endpoint=False),
    )
    ensure_topics(settings)
    redis = Redis.from_url(settings.redis_url)
    index = FacetIndex(redis, await active_index_namespace(redis, settings.namespace))
    await index.apply_releases([(rid, _release(rid, "Jazz" if rid != 1004 else "Rock")) for rid in VIDEOS])

    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop=stop, tick=0.5))
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    try:
        async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
            # The browser's dance: site -> provider (auto-approves) -> callback on the site.
            signed_in = await browser.get(f"{base}/auth/login")
            assert signed_in.status == 200 and str(signed_in.url).startswith(base)
            me = await (await browser.get(f"{base}/api/v1/me")).json()
            assert me["user"]["id"] == f"google:{oidc.user['sub']}"

            request = {"title": "Jazz from Dataget", "privacy": "private", "query": {"genre": ["Jazz"]},
                       "max_videos": 50}
            # The first playlist asks for YouTube access on top of the sign-in (incremental authorization).
            refused = await browser.post(f"{base}/api/v1/playlists", headers={"Origin": base}, json=request)
            assert refused.status == 403, await refused.text()
            connected = await browser.get(f"{base}{(await refused.json())['connect']}")
            assert connected.status == 200 and str(connected.url).startswith(base)
            created = await browser.post(f"{base}/api/v1/playlists", headers={"Origin": base}, json=request)
            assert created.status == 202, await created.text()
            job_id = (await created.json())["job_id"]

            states = []
            async with browser.ws_connect(f"{base}/ws/playlists/{job_id}", headers={"Origin": base}) as ws:
                async with asyncio.timeout(60):
                    async for message in ws:
                        snapshot = orjson.loads(message.data)
                        states.append((snapshot["seq"], snapshot["state"]))
                        if snapshot["state"] in ("done", "failed"):
                            break
        assert states and states[-1][1] == "done", states
        seqs = [seq for seq, _ in states]
        assert seqs == sorted(seqs)
    except BaseException:
        # What the worker did is the first question when the socket never reaches `done`.
        print("fake YouTube calls:", youtube.calls)
        print("status topic:", [m.value for m in read_topic(settings, settings.topics.playlist_status)])
        raise
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await server.close()
        await redis.aclose()

    job = next(orjson.loads(m.value) for m in read_topic(settings, settings.topics.playlist_requests)
               if orjson.loads(m.value)["job_id"] == job_id)
    jazz = {v for rid, ids in VIDEOS.items() if rid != 1004 for v in ids}
    assert set(job["video_ids"]) == jazz
    [playlist] = youtube.playlists()
    assert playlist.privacy == "private" and playlist.title == "Jazz from Dataget"
    assert playlist.video_ids == job["video_ids"]
