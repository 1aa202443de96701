"""A playlist job as the site makes one (the user's stored token, the request record, the message on
`playlist.requests`) and `dataget youtube-worker` run as an operator runs it, for the end-to-end tests on the fake
YouTube (dataget.standins.youtube)."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from runtime.settings import Settings, settings_env
from schemas.playlist_jobs import JOB_RECORDS, REQUEST_RECORDS
from sinks.user_tokens import UserTokenStore
from web.kafka_io import KafkaJobPublisher

USER = "google:2001"


def start_youtube_worker(dataget_bin: Path, settings: Settings, log: Path) -> subprocess.Popen:
    env = {**os.environ, **settings_env(settings)}
    with log.open("ab") as out:  # the same worker id: a restarted worker resumes its own job at once
        return subprocess.Popen([str(dataget_bin), "youtube-worker", "--worker-id", "w1", "--tick", "0.5"],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def request_job(mongo: MongoClient, settings: Settings, title: str, video_ids: Sequence[str]) -> dict[str, Any]:
    """USER's job of video_ids, recorded as the site records an accepted request (publish it with publish_job)."""
    UserTokenStore(mongo[settings.app_mongo_db], settings.token_key).save(USER, {
        "access_token": "ya29.good", "refresh_token": "1//r", "expires_at": int(time.time()) + 3600,
        "token_type": "Bearer", "scope": "openid https://www.googleapis.com/auth/youtube"})
    job = {"job_id": str(uuid.uuid4()), "user_id": USER, "title": title, "privacy": "private",
           "query": {"genre": ["Jazz"]}, "video_ids": list(video_ids), "requested_at": "2026-01-15T12:00:00Z"}
    mongo[settings.app_mongo_db][REQUEST_RECORDS].insert_one({**job, "_id": job["job_id"]})
    return job


async def publish_job(settings: Settings, job: dict[str, Any]) -> None:
    publisher = KafkaJobPublisher(settings)
    await publisher.start()
    try:
        await publisher.publish(job)
    finally:
        await publisher.stop()


def wait_for_job(mongo: MongoClient, settings: Settings, job_id: str, timeout: float = 120) -> dict[str, Any]:
    """The job's record once it is done or failed."""
    deadline = time.monotonic() + timeout
    while True:
        doc = mongo[settings.app_mongo_db][JOB_RECORDS].find_one({"_id": job_id})
        if doc is not None and doc["state"] in ("done", "failed"):
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.3)
