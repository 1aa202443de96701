"""The worker end to end: real Kafka and FerretDB, the fake YouTube API, an injected clock and backoff sleep."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from cryptography.fernet import Fernet
from pymongo import MongoClient

from dataget.standins.youtube import FakeYouTube
from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from schemas.generate import load_schema
from schemas.playlist_jobs import REQUEST_RECORDS
from sinks.user_tokens import UserTokenStore
from stream_processors.youtube import jobs as pj
from stream_processors.youtube.consumer import run_worker
from stream_processors.youtube.repositories import JOBS
from web.kafka_io import KafkaJobPublisher

pytestmark = pytest.mark.stack

USER = "google:1001"
FRESH_USER = "google:1002"
CATALOGUE = [f"vid{n:02d}" for n in range(8)]
# Winter: the quota day ends at 08:00 UTC.
START = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Backoff:
    slept: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeYouTube]:
    with FakeYouTube(videos=CATALOGUE) as fake:
        fake.add_video("private1", privacy="private")
        yield fake


@pytest.fixture
def env(isolated_settings: Settings, fake: FakeYouTube) -> Iterator[Settings]:
    settings = isolated_settings.with_(**fake.settings_overrides(), token_key=Fernet.generate_key().decode())
    ensure_topics(settings)
    mongo: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url)
    tokens = UserTokenStore(mongo[settings.app_mongo_db], settings.token_key)
    # USER's access token has expired (the worker refreshes it); FRESH_USER's is still good.
    for user, access, expires_in in ((USER, "ya29.expired", -60), (FRESH_USER, "ya29.good", 3600)):
        tokens.save(user, {"access_token": access, "refresh_token": "1//r", "expires_at": int(time.time()) + expires_in,
                           "token_type": "Bearer", "scope": "openid https://www.googleapis.com/auth/youtube"})
    yield settings
    mongo.close()


class Harness:
    def __init__(self, settings: Settings, clock: Clock, backoff: Backoff) -> None:
        self.settings, self.clock, self.backoff = settings, clock, backoff
        self.mongo: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url)
        self.jobs = self.mongo[settings.app_mongo_db][JOBS]
        self.task: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()

    async def start(self) -> None:
        ready = asyncio.Event()
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(run_worker(
            self.settings, stop=self.stop, clock=self.clock, sleep=self.backoff, worker_id="w1", tick=0.1,
            ready=ready,
        ))
        await asyncio.wait([asyncio.create_task(ready.wait()), self.task], return_when=asyncio.FIRST_COMPLETED)
        assert not self.task.done(), self.task

    async def crash(self) -> None:
        assert self.task is not None
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task

    async def shutdown(self) -> None:
        if self.task is not None and not self.task.done():
            self.stop.set()
            await self.task

    async def submit(self, video_ids: list[str], *, on_record: dict[str, Any] | None = None, **changes: Any) -> str:
        """Publish a request after recording it as the site does (on_record: record this instead)."""
        job = {"job_id": str(uuid.uuid4()), "user_id": USER, "title": "Test mix", "privacy": "private",
               "query": {"style": ["Dub"]}, "video_ids": video_ids, "requested_at": "2026-01-15T12:00:00Z",
               **changes}
        jsonschema.validate(job, load_schema("playlist.requests"))
        record = {**job, **(on_record or {}), "_id": job["job_id"]}
        await asyncio.to_thread(self.mongo[self.settings.app_mongo_db][REQUEST_RECORDS].replace_one,
                                {"_id": job["job_id"]}, record, upsert=True)
        publisher = KafkaJobPublisher(self.settings)
        await publisher.start()
        try:
            await publisher.publish(job)
        finally:
            await publisher.stop()
        return job["job_id"]

    async def state_of(self, job_id: str, *states: str) -> dict[str, Any]:
        """The job document once it reaches one of `states` (the pytest timeout guards against a hang)."""
        while True:
            doc = await asyncio.to_thread(self.jobs.find_one, {"_id": job_id})
            if doc is not None and doc["state"] in states:
                return doc
            await asyncio.sleep(0.05)

    async def snapshots(self, job_id: str) -> list[dict[str, Any]]:
        """The job's snapshots up to the one of its stored state (published just after the state is saved)."""
        last = (await asyncio.to_thread(self.jobs.find_one, {"_id": job_id}))["seq"]
        consumer = AIOKafkaConsumer(
            self.settings.topics.playlist_status, bootstrap_servers=self.settings.kafka_bootstrap, group_id=None,
            auto_offset_reset="earliest", enable_auto_commit=False,
        )
        await consumer.start()
        snaps: list[dict[str, Any]] = []
        try:
            async for message in consumer:
                if message.key == job_id.encode():
                    snaps.append(orjson.loads(message.value))
                    if snaps[-1]["seq"] == last:
                        return snaps
        finally:
            await consumer.stop()
        raise AssertionError("status topic ended")


@pytest.fixture
async def harness(env: Settings) -> AsyncIterator[Harness]:
    h = Harness(env, Clock(), Backoff())
    yield h
    await h.shutdown()
    h.mongo.close()


def assert_history(snaps: list[dict[str, Any]], final: str) -> None:
    schema = load_schema("playlist.status")
    for snap in snaps:
        jsonschema.validate(snap, schema)
    seqs = [s["seq"] for s in snaps]
    assert seqs == sorted(set(seqs)) and snaps[0]["state"] == "queued" and snaps[-1]["state"] == final


async def test_a_job_becomes_a_private_playlist_in_order(harness: Harness, fake: FakeYouTube, env: Settings) -> None:
    # The first insert (vid03) meets a 503, is retried and then finds the video gone since the pre-check: skipped.
    fake.fail("playlistItems.insert", 503, "backendError")
    fake.fail("playlistItems.insert", 404, "videoNotFound")
    await harness.start()
    wanted = ["vid03", "missing", "vid05", "vid01", "private1", "vid07"]
    job_id = await harness.submit(wanted)
    doc = await harness.state_of(job_id, "done", "failed")
    assert doc["state"] == "done", doc["error"]

    [playlist] = fake.playlists()
    assert (playlist.title, playlist.privacy) == ("Test mix", "private")
    assert playlist.video_ids == ["vid05", "vid01", "vid07"]
    assert len(harness.backoff.slept) == 1 and fake.calls.count("playlistItems.insert") == 5
    snaps = await harness.snapshots(job_id)
    assert_history(snaps, "done")
    assert (snaps[-1]["done"], snaps[-1]["skipped"], snaps[-1]["total"], snaps[-1]["playlist_id"]) == (
        3, 3, 6, playlist.id
    )
    # The refreshed access token went back to the store.
    mongo: MongoClient[dict[str, Any]] = MongoClient(env.mongo_url)
    token = UserTokenStore(mongo[env.app_mongo_db], env.token_key).load(USER)
    mongo.close()
    assert token is not None and token["access_token"] != "ya29.expired" and token["refresh_token"] == "1//r"
    assert fake.refresh_count == 1


@pytest.mark.parametrize(("worker_units", "api_units"), [(151, 10_000), (10_000, 151)], ids=["ledger", "api"])
async def test_quota_exhaustion_parks_the_job_until_pacific_midnight(
    harness: Harness, fake: FakeYouTube, worker_units: int, api_units: int
) -> None:
    # 151 units: one videos.list, the playlist and two inserts; the third insert must wait for the next day.
    fake.daily_units = api_units
    harness.settings = harness.settings.with_(youtube_daily_units=worker_units)
    await harness.start()
    job_id = await harness.submit(CATALOGUE[:4])
    parked = await harness.state_of(job_id, "waiting_for_quota", "done", "failed")
    assert parked["state"] == "waiting_for_quota" and parked["done"] == 2
    assert "2026-01-16 00:00 Pacific" in parked["error"]
    assert fake.playlists()[0].video_ids == CATALOGUE[:2]

    fake.reset_quota()
    harness.clock.now = datetime(2026, 1, 16, 8, 0, 1, tzinfo=UTC)  # just past midnight in Los Angeles
    doc = await harness.state_of(job_id, "done", "failed")
    assert doc["state"] == "done", doc["error"]
    assert fake.playlists()[0].video_ids == CATALOGUE[:4] and len(fake.playlists()) == 1
    snaps = await harness.snapshots(job_id)
    assert_history(snaps, "done")
    assert "waiting_for_quota" in [s["state"] for s in snaps]
    assert fake.calls.count("playlists.insert") == 1


async def test_a_crash_mid_insert_resumes_without_duplicates(harness: Harness, fake: FakeYouTube) -> None:
    hold = fake.hold_insert(3)  # the third insert lands, but its answer never reaches the crashed worker
    await harness.start()
    job_id = await harness.submit(CATALOGUE[:6])
    assert await asyncio.to_thread(hold.reached.wait, 60)
    await harness.crash()
    hold.release.set()
    interrupted = await harness.state_of(job_id, "running")
    assert interrupted["done"] == 2 and len(fake.playlists()[0].video_ids) == 3

    await harness.start()
    doc = await harness.state_of(job_id, "done", "failed")
    assert doc["state"] == "done" and doc["done"] == 6
    [playlist] = fake.playlists()
    assert playlist.video_ids == CATALOGUE[:6]
    assert fake.calls.count("playlistItems.list") == 1
    assert_history(await harness.snapshots(job_id), "done")


async def test_jobs_fail_clearly(harness: Harness, fake: FakeYouTube, env: Settings) -> None:
    await harness.start()
    fake.revoke_refresh_token("1//r")
    revoked = await harness.submit(["vid01"])
    stranger = await harness.submit(["vid01"], user_id="google:nobody")
    unplayable = await harness.submit(["missing", "private1"], user_id=FRESH_USER)
    for job_id in (revoked, stranger):
        doc = await harness.state_of(job_id, "done", "failed")
        assert (doc["state"], doc["error"]) == ("failed", pj.RECONNECT_MESSAGE)
    doc = await harness.state_of(unplayable, "done", "failed")
    assert doc["state"] == "failed" and doc["skipped"] == 2
    assert fake.playlists() == []
    assert_history(await harness.snapshots(unplayable), "failed")



async def wait_for(jobs: Any, job_id: str, check: Any) -> dict[str, Any]:
    """The job document once `check(doc)` holds (the pytest timeout guards against a hang)."""
    while True:
        doc = await asyncio.to_thread(jobs.find_one, {"_id": job_id})
        if doc is not None and check(doc):
            return doc
        await asyncio.sleep(0.05)


async def test_a_small_request_finishes_long_before_a_huge_one(harness: Harness, fake: FakeYouTube) -> None:
    huge = [f"big{n:04d}" for n in range(2000)]
    for video_id in huge:
        fake.add_video(video_id)
    a = await harness.submit(huge)
    b = await harness.submit(CATALOGUE[:8] + ["missing", "private1"], user_id=FRESH_USER)
    await harness.start()

    b_done = await harness.state_of(b, "done", "failed")
    assert (b_done["state"], b_done["done"], b_done["skipped"]) == ("done", 8, 2)
    # Turns alternate: B's 8 videos went in among A's first few turns (5 videos each), not after A's 2,000.
    order = [video_id for _, video_id in fake.inserted]
    assert order.index(CATALOGUE[7]) < 8 + 4 * 5

    # A fills what is left of the day's 10,000 units and waits: 2 pre-checks (40 + 1 units) and 2 playlists (100)
    # leave 9,859 units, 197 inserts; the ledger and YouTube's own count stay within the budget.
    parked = await harness.state_of(a, "waiting_for_quota")
    assert parked["done"] == 197 - 8
    assert fake.units_used <= 10_000
    ledger = harness.mongo[harness.settings.app_mongo_db]["youtube_quota"].find_one({"_id": "2026-01-15"})
    assert ledger["units"] <= 10_000
    assert sorted(len(p.video_ids) for p in fake.playlists()) == [8, 189]

    # The parked job is told how long it will wait: 1,811 videos (90,550 units) take the next reset, 20 hours away,
    # and 9 days and a bit of budget after it.
    placed = await wait_for(harness.jobs, a, lambda doc: doc.get("eta_text") and "days" in doc["eta_text"])
    assert placed["eta_text"] == "about 10 days: YouTube allows this site ~199 videos a day"
    a_snaps = await harness.snapshots(a)
    assert_history(a_snaps, "waiting_for_quota")
    assert (a_snaps[-1]["queue_position"], a_snaps[-1]["remaining"]) == (1, 2000 - 189)
    b_snaps = await harness.snapshots(b)
    assert_history(b_snaps, "done")
    assert any(s.get("queue_position") in (1, 2) and "minute" in s.get("eta_text", "") for s in b_snaps)
    assert "queue_position" not in b_snaps[-1]  # a finished job has no place in the queue


async def test_videos_are_checked_once_a_day_for_every_job(harness: Harness, fake: FakeYouTube) -> None:
    await harness.start()
    first = await harness.submit(["vid01", "missing", "private1"])
    assert (await harness.state_of(first, "done", "failed"))["state"] == "done"
    second = await harness.submit(["vid02", "missing", "private1", "vid01"])
    doc = await harness.state_of(second, "done", "failed")
    assert (doc["state"], doc["done"], doc["skipped"]) == ("done", 2, 2)
    assert fake.calls.count("videos.list") == 2  # the second asked only about vid02
    videos = harness.mongo[harness.settings.app_mongo_db]["youtube_videos"]
    assert {d["_id"]: d["playable"] for d in videos.find()} == {
        "vid01": True, "vid02": True, "missing": False, "private1": False}

    harness.clock.now = START + timedelta(days=1, minutes=1)  # a day later the answers are stale
    third = await harness.submit(["vid01", "missing"])
    assert (await harness.state_of(third, "done", "failed"))["skipped"] == 1
    assert fake.calls.count("videos.list") == 3


async def test_a_token_no_key_decrypts_fails_the_job_with_sign_in_again(harness: Harness, env: Settings) -> None:
    # Encrypted with a key the worker no longer has (dropped from DATAGET_TOKEN_KEY too early).
    mongo: MongoClient[dict[str, Any]] = MongoClient(env.mongo_url)
    UserTokenStore(mongo[env.app_mongo_db], Fernet.generate_key().decode()).save(
        "google:lost", {"access_token": "ya29.x", "refresh_token": "1//x"})
    mongo.close()
    await harness.start()
    job_id = await harness.submit(["vid01"], user_id="google:lost")
    doc = await harness.state_of(job_id, "done", "failed")
    assert (doc["state"], doc["error"]) == ("failed", pj.SIGN_IN_AGAIN_MESSAGE)
    assert doc["owner"] is None  # not left 'running' under a lease, retried forever
    assert_history(await harness.snapshots(job_id), "failed")


async def test_a_request_the_site_has_not_recorded_is_not_run(harness: Harness, env: Settings) -> None:
    async def publish_the_record(job_id: str) -> None:
        """The genuine request, same key, so it follows the tampered one on its partition."""
        requests = harness.mongo[env.app_mongo_db][REQUEST_RECORDS]
        record = await asyncio.to_thread(requests.find_one, {"_id": job_id})
        publisher = KafkaJobPublisher(env)
        await publisher.start()
        try:
            await publisher.publish({k: v for k, v in record.items() if k != "_id"})
        finally:
            await publisher.stop()

    await harness.start()
    # Someone who can write to the topic claims FRESH_USER's account for a request the site recorded for USER,
    # and swaps the videos of another.
    other_user = await harness.submit(["vid01"], user_id=FRESH_USER, on_record={"user_id": USER})
    other_videos = await harness.submit(["vid02"], on_record={"video_ids": ["vid03"]})
    for job_id in (other_user, other_videos):
        await publish_the_record(job_id)
    # Had the tampered message been taken, the genuine one would be a redelivery of a known job.
    assert (await harness.state_of(other_user, "done", "failed"))["user_id"] == USER
    assert (await harness.state_of(other_videos, "done", "failed"))["video_ids"] == ["vid03"]
