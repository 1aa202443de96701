"""The Store protocol on MongoDB: releases from the catalog database, site data from `{mongo_db}_app`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from pymongo import AsyncMongoClient, MongoClient

from runtime.settings import Settings
from schemas.playlist_jobs import ACTIVE_STATES, JOB_RECORDS, REQUEST_RECORDS, PlaylistJob, StatusSnapshot
from schemas.records import Master, Release
from sinks.mongo_store import document_id, record_of
from sinks.record_packing import RecordPacker
from sinks.user_tokens import UserTokenStore
from web.sessions import SessionRecord

# A visitor waits this long, not the driver's 30 s, before a down MongoDB becomes a 503 (web/api.py).
MONGO_TIMEOUT_MS = 5000


def status_of_record(record: dict[str, Any]) -> StatusSnapshot:
    """The status a job record of the YouTube worker stands for (schemas/playlist_jobs.py JOB_RECORDS)."""
    return {
        "job_id": str(record["_id"]), "user_id": record["user_id"], "seq": record["seq"], "state": record["state"],
        "done": record["done"], "total": len(record["video_ids"]), "skipped": record["skipped"],
        "playlist_id": record.get("playlist_id"), "error": record.get("error"),
        # A record saved only on arrival has no save time yet: the request's.
        "updated_at": record.get("updated_at") or record.get("requested_at") or "",
    }


class SiteStore:
    """ports.Store on MongoDB: releases from the catalogue database, users, tokens and requests from `<db>_app`."""

    def __init__(self, settings: Settings) -> None:
        timeouts: dict[str, Any] = {"serverSelectionTimeoutMS": MONGO_TIMEOUT_MS, "connectTimeoutMS": MONGO_TIMEOUT_MS}
        self._client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongo_url, **timeouts)
        self._releases = self._client[settings.mongo_db]["releases"]
        self._masters = self._client[settings.mongo_db]["masters"]
        app_db = self._client[settings.app_mongo_db]
        self._users = app_db["users"]
        self._sessions = app_db["sessions"]
        # The request as the site accepted it (ownership checks); the YouTube worker keeps its own
        # progress in `playlist_jobs`, so the two processes never write the same documents.
        self._jobs = app_db[REQUEST_RECORDS]
        self._job_records = app_db[JOB_RECORDS]  # read only
        # UserTokenStore is synchronous (shared with the YouTube worker): its own client, used from a thread.
        self._sync_client: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url, **timeouts)
        self._tokens = UserTokenStore(self._sync_client[settings.app_mongo_db], settings.token_key)
        self._packer = RecordPacker.load()

    async def close(self) -> None:
        await self._client.close()
        await asyncio.to_thread(self._sync_client.close)

    async def get_release(self, release_id: int) -> Release | None:
        doc = await self._releases.find_one({"_id": document_id(release_id)})
        # The releases collection holds releases.
        return None if doc is None else cast(Release, record_of(doc, self._packer))

    async def get_master(self, master_id: int) -> Master | None:
        doc = await self._masters.find_one({"_id": document_id(master_id)})
        # The masters collection holds masters.
        return None if doc is None else cast(Master, record_of(doc, self._packer))

    async def save_user(self, user_id: str, profile: dict[str, Any], token: dict[str, Any] | None) -> None:
        if token is not None:
            await asyncio.to_thread(self._tokens.save, user_id, token)
        now = datetime.now(UTC)
        doc = {**profile, "last_login": now.isoformat(), "last_seen": now}
        await self._users.update_one({"_id": user_id}, {"$set": doc}, upsert=True)

    async def load_token(self, user_id: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self._tokens.load, user_id)

    async def delete_token(self, user_id: str) -> None:
        await asyncio.to_thread(self._tokens.delete, user_id)

    async def start_session(self, key: str, user_id: str, now: datetime) -> None:
        await self._sessions.insert_one({"_id": key, "user_id": user_id, "created_at": now, "seen_at": now})

    async def get_session(self, key: str) -> SessionRecord | None:
        doc = await self._sessions.find_one({"_id": key})
        return None if doc is None else {"user_id": doc["user_id"], "created_at": doc["created_at"],
                                         "seen_at": doc["seen_at"]}

    async def touch_session(self, key: str, user_id: str, now: datetime) -> None:
        await self._sessions.update_one({"_id": key}, {"$set": {"seen_at": now}})
        await self._users.update_one({"_id": user_id}, {"$set": {"last_seen": now}})

    async def end_session(self, key: str) -> None:
        await self._sessions.delete_one({"_id": key})

    async def forget_idle_users(self, cutoff: datetime) -> int:
        # Users from before last_seen was kept start their clock now.
        await self._users.update_many({"last_seen": {"$exists": False}}, {"$set": {"last_seen": datetime.now(UTC)}})
        gone = [doc["_id"] async for doc in self._users.find({"last_seen": {"$lt": cutoff}}, {"_id": 1})]
        for user_id in gone:
            await asyncio.to_thread(self._tokens.delete, user_id)
        await self._sessions.delete_many({"$or": [{"user_id": {"$in": gone}}, {"seen_at": {"$lt": cutoff}}]})
        return len(gone)

    async def create_job(self, job: PlaylistJob) -> None:
        await self._jobs.insert_one({**job, "_id": job["job_id"]})

    async def get_job(self, job_id: str) -> PlaylistJob | None:
        # The job as create_job stored it (plus its `_id`).
        return cast(PlaylistJob | None, await self._jobs.find_one({"_id": job_id}))

    async def get_job_status(self, job_id: str) -> StatusSnapshot | None:
        record = await self._job_records.find_one({"_id": job_id})
        return None if record is None else status_of_record(record)

    async def active_jobs(self, user_id: str) -> int:
        requested = [doc["_id"] async for doc in self._jobs.find({"user_id": user_id}, {"_id": 1})]
        if not requested:
            return 0
        ended = {"_id": {"$in": requested}, "state": {"$nin": list(ACTIVE_STATES)}}
        return len(requested) - await self._job_records.count_documents(ended)

    async def delete_job(self, job_id: str) -> None:
        await self._jobs.delete_one({"_id": job_id})
