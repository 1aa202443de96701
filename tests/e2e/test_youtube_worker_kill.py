"""The YouTube worker killed with SIGKILL in the middle of a playlist (an insert landed, its answer lost), then
started again: the playlist is completed, no item twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pymongo import MongoClient

from dataget.standins.youtube import FakeYouTube
from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from tests.playlist_job import publish_job, request_job, start_youtube_worker, wait_for_job

pytestmark = [pytest.mark.stack, pytest.mark.slow]

VIDEOS = [f"video{n:06d}" for n in range(12)]


def test_kill_9_mid_insert_completes_the_playlist_without_a_duplicate(
        dataget_bin: Path, isolated_settings: Settings, tmp_path: Path) -> None:
    with FakeYouTube(videos=VIDEOS) as fake:
        settings = isolated_settings.with_(**fake.settings_overrides(), token_key=Fernet.generate_key().decode(),
                                           session_secret=Fernet.generate_key().decode())
        ensure_topics(settings)
        mongo: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url)
        job = request_job(mongo, settings, "Killed mix", VIDEOS)
        hold = fake.hold_insert(5)  # the fifth insert lands; its answer never reaches the killed worker
        worker = start_youtube_worker(dataget_bin, settings, tmp_path / "worker.log")
        try:
            asyncio.run(publish_job(settings, job))
            assert hold.reached.wait(120), (tmp_path / "worker.log").read_text()
            worker.kill()
            worker.wait(30)
            hold.release.set()
            worker = start_youtube_worker(dataget_bin, settings, tmp_path / "worker.log")
            doc = wait_for_job(mongo, settings, job["job_id"])
        finally:
            worker.kill()
            worker.wait(30)
            mongo.close()
        assert (doc["state"], doc["done"]) == ("done", len(VIDEOS))
        [playlist] = fake.playlists()
        assert playlist.video_ids == VIDEOS  # each once, in order
        assert fake.calls.count("playlists.insert") == 1
