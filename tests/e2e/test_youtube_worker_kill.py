"""The YouTube worker killed with SIGKILL in the middle of a playlist (an insert landed, its answer lost), then
started again: the playlist is completed, no item twice."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pymongo import MongoClient

from dataget.standins.youtube import FakeYouTube
from runtime.settings import Settings, settings_env
from runtime.topic_admin import ensure_topics
from schemas.playlist_jobs import JOB_RECORDS, REQUEST_RECORDS
from sinks.user_tokens import UserTokenStore
from web.kafka_io import KafkaJobPublisher

pytestmark = [pytest.mark.stack, pytest.mark.slow]

VIDEOS = [f"video{n:06d}" for n in range(12)]
USER = "google:2001"


def start_worker(dataget_bin: Path, settings: Settings, log: Path) -> subprocess.Popen:
    env = {**os.environ, **settings_env(settings)}
    with log.open("ab") as out:  # the same worker id: the restarted worker resumes its own job at once
        return subprocess.Popen([str(dataget_bin), "youtube-worker", "--worker-id", "w1", "--tick", "0.5"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for_job(mongo: MongoClient, settings: Settings, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        doc = mongo[settings.app_mongo_db][JOB_RECORDS].find_one({"_id": job_id})
        if doc is not None and doc["state"] in ("done", "failed"):
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.3)


def test_kill_9_mid_insert_completes_the_playlist_without_a_duplicate(
        dataget_bin: Path, isolated_settings: Settings, tmp_path: Path) -> None:
    with FakeYouTube(videos=VIDEOS) as fake:
        settings = isolated_settings.with_(**fake.settings_overrides(), token_key=Fernet.generate_key().decode(),
                                           session_secret=Fernet.generate_key().decode())
        ensure_topics(settings)
        mongo: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url)
        UserTokenStore(mongo[settings.app_mongo_db], settings.token_key).save(USER, {
            "access_token": "ya29.good", "refresh_token": "1//r", "expires_at": int(time.time()) + 3600,
            "token_type": "Bearer", "scope": "openid https://www.googleapis.com/auth/youtube"})
        job = {"job_id": str(uuid.uuid4()), "user_id": USER, "title": "Killed mix", "privacy": "private",
               "query": {"genre": ["Jazz"]}, "video_ids": VIDEOS, "requested_at": "2026-01-15T12:00:00Z"}
        mongo[settings.app_mongo_db][REQUEST_RECORDS].insert_one({**job, "_id": job["job_id"]})  # as the site does
        hold = fake.hold_insert(5)  # the fifth insert lands; its answer never reaches the killed worker
        worker = start_worker(dataget_bin, settings, tmp_path / "worker.log")
        try:
            asyncio.run(publish(settings, job))
            assert hold.reached.wait(120), (tmp_path / "worker.log").read_text()
            worker.kill()
            worker.wait(30)
            hold.release.set()
            worker = start_worker(dataget_bin, settings, tmp_path / "worker.log")
            doc = wait_for_job(mongo, settings, job["job_id"])
        finally:
            worker.kill()
            worker.wait(30)
            mongo.close()
        assert (doc["state"], doc["done"]) == ("done", len(VIDEOS))
        [playlist] = fake.playlists()
        assert playlist.video_ids == VIDEOS  # each once, in order
        assert fake.calls.count("playlists.insert") == 1


async def publish(settings: Settings, job: dict[str, Any]) -> None:
    publisher = KafkaJobPublisher(settings)
    await publisher.start()
    try:
        await publisher.publish(job)
    finally:
        await publisher.stop()
