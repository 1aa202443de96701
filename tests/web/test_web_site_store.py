"""The site's store on the real MongoDB-wire server: playlist requests in, out, and gone."""

from __future__ import annotations

import pymongo
import pytest
from web_fakes import web_settings

from runtime.settings import Settings
from schemas.playlist_jobs import JOB_RECORDS
from sinks.mongo_store import to_document
from sinks.record_packing import RecordPacker
from web.site_store import SiteStore

pytestmark = pytest.mark.stack


async def test_a_playlist_request_is_stored_found_and_deleted(isolated_settings: Settings) -> None:
    store = SiteStore(web_settings(mongo_url=isolated_settings.mongo_url, mongo_db=isolated_settings.mongo_db))
    try:
        job = {"job_id": "j-1", "user_id": "google:1", "title": "Jazz sampler"}
        await store.create_job(job)
        assert await store.get_job("j-1") == {**job, "_id": "j-1"}
        await store.delete_job("j-1")
        assert await store.get_job("j-1") is None
        await store.delete_job("j-1")  # deleting what is gone is no error
    finally:
        await store.close()


async def test_a_release_reads_back_as_its_record_however_it_was_stored(isolated_settings: Settings) -> None:
    records = {1: {"id": 1, "title": "Plain"}, 2: {"id": 2, "title": "Packed"}}
    client = pymongo.MongoClient(isolated_settings.mongo_url)
    client[isolated_settings.mongo_db].releases.insert_many(
        [to_document(1, records[1]), to_document(2, records[2], RecordPacker.load().pack("releases", records[2]))])
    client.close()
    store = SiteStore(web_settings(mongo_url=isolated_settings.mongo_url, mongo_db=isolated_settings.mongo_db))
    try:
        assert await store.get_release(1) == records[1]
        assert await store.get_release(2) == records[2]
        assert await store.get_release(3) is None
    finally:
        await store.close()


async def test_a_job_status_reads_what_the_youtube_worker_saved(isolated_settings: Settings) -> None:
    from datetime import UTC, datetime

    from stream_processors.youtube import jobs as pj
    from stream_processors.youtube.repositories import JobStore

    client = pymongo.MongoClient(isolated_settings.mongo_url)
    worker_jobs = JobStore(client[isolated_settings.app_mongo_db], "worker-1")
    job = pj.Job(job_id="j-2", user_id="google:1", title="Jazz", privacy="private", video_ids=("a", "b", "c"),
                 requested_at="2027-01-15T07:00:00Z")
    worker_jobs.create(job)
    store = SiteStore(web_settings(mongo_url=isolated_settings.mongo_url, mongo_db=isolated_settings.mongo_db))
    try:
        queued = await store.get_job_status("j-2")
        assert (queued["state"], queued["total"], queued["updated_at"]) == ("queued", 3, "2027-01-15T07:00:00Z")
        finished = pj.finished(pj.item_added(pj.checked(pj.playlist_created(job, "PL9"), {"a"})))
        worker_jobs.save(finished, datetime(2027, 1, 15, 8, 0, tzinfo=UTC))
        status = await store.get_job_status("j-2")
        assert status == pj.snapshot(finished, datetime(2027, 1, 15, 8, 0, tzinfo=UTC))
        assert await store.get_job_status("no-such-job") is None
    finally:
        await store.close()
        client.close()


async def test_active_jobs_are_the_users_requests_the_worker_has_not_finished(isolated_settings: Settings) -> None:
    store = SiteStore(web_settings(mongo_url=isolated_settings.mongo_url, mongo_db=isolated_settings.mongo_db))
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(isolated_settings.mongo_url)
    records = client[isolated_settings.app_mongo_db][JOB_RECORDS]
    try:
        assert await store.active_jobs("google:1") == 0
        for job_id, user in (("j-1", "google:1"), ("j-2", "google:1"), ("j-3", "google:1"), ("j-4", "google:2")):
            await store.create_job({"job_id": job_id, "user_id": user, "title": "t"})
        # j-1 done, j-2 still running, j-3 not seen by the worker yet.
        records.insert_many([{"_id": "j-1", "state": "done"}, {"_id": "j-2", "state": "running"},
                             {"_id": "j-4", "state": "failed"}])
        assert await store.active_jobs("google:1") == 2
        assert await store.active_jobs("google:2") == 0
    finally:
        client.close()
        await store.close()


async def test_sessions_and_forgetting_idle_users(isolated_settings: Settings) -> None:
    from datetime import UTC, datetime, timedelta

    store = SiteStore(web_settings(mongo_url=isolated_settings.mongo_url, mongo_db=isolated_settings.mongo_db))
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        await store.save_user("google:1", {"email": "a@example.com"}, {"access_token": "a", "refresh_token": "r"})
        await store.save_user("google:2", {"email": "b@example.com"}, None)
        await store.start_session("k1", "google:1", now - timedelta(days=200))
        await store.start_session("k2", "google:2", now)
        record = await store.get_session("k1")
        assert record is not None and record["user_id"] == "google:1"
        await store.touch_session("k2", "google:2", now + timedelta(minutes=10))
        assert (await store.get_session("k2"))["seen_at"].replace(tzinfo=UTC) == now + timedelta(minutes=10)
        assert await store.load_token("google:2") is None
        # google:1 has not been seen for 200 days (its last_seen is set back as if so)
        client = pymongo.MongoClient(isolated_settings.mongo_url)
        client[isolated_settings.app_mongo_db].users.update_one(
            {"_id": "google:1"}, {"$set": {"last_seen": now - timedelta(days=200)}})
        client.close()
        assert await store.forget_idle_users(now - timedelta(days=180)) == 1
        assert await store.load_token("google:1") is None and await store.get_session("k1") is None
        assert await store.get_session("k2") is not None
        await store.end_session("k2")
        assert await store.get_session("k2") is None
    finally:
        await store.close()
