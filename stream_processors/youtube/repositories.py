"""Mongo repositories of the YouTube worker: job documents with a lease, the site's daily quota ledger, and the
`videos.list` answers of the last day."""


from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from schemas.messages import format_time
from schemas.playlist_jobs import ACTIVE_STATES, JOB_RECORDS, REQUEST_FIELDS, REQUEST_RECORDS
from stream_processors.youtube import jobs as pj

Clock = Callable[[], datetime]
JOBS = JOB_RECORDS
QUOTA = "youtube_quota"
VIDEOS = "youtube_videos"
# How long a videos.list answer stands: a video rarely changes its status within a day.
VIDEO_CHECK_TTL = timedelta(days=1)
# Longer than one call's worst retry sequence, so a live worker never loses its job between two saves.
LEASE = timedelta(minutes=30)
DEFAULT_TICK = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


class QuotaExhausted(Exception):
    """The local ledger or YouTube says today's units are spent."""


class JobStore:
    """Job documents with a lease; blocking pymongo, so call it through `asyncio.to_thread`."""

    def __init__(self, db: Database, worker_id: str) -> None:
        self._jobs = db[JOBS]
        self._requests = db[REQUEST_RECORDS]  # read only: the site's
        self._me = worker_id

    def is_on_record(self, message: Mapping[str, Any]) -> bool:
        """Whether the site recorded this very request (schemas/playlist_jobs.py REQUEST_RECORDS)."""
        record = self._requests.find_one({"_id": message.get("job_id")})
        return record is not None and all(record.get(name) == message.get(name) for name in REQUEST_FIELDS)

    def create(self, job: pj.Job) -> bool:
        """Record a new job; False when it is known already (a redelivered request)."""
        try:
            self._jobs.insert_one({**job.to_doc(), "owner": None, "lease_until": None})
        except DuplicateKeyError:
            return False
        return True

    def claim(self, job_id: str, now: datetime) -> pj.Job | None:
        """Take an active job's lease (free, ours, or expired); None when another worker holds it or it ended."""
        doc = self._jobs.find_one_and_update(
            {"_id": job_id, "state": {"$in": list(ACTIVE_STATES)},
             "$or": [{"owner": None}, {"owner": self._me}, {"lease_until": {"$lt": now}}]},
            {"$set": {"owner": self._me, "lease_until": now + LEASE}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else pj.Job.from_doc(doc)

    def save(self, job: pj.Job, now: datetime) -> None:
        """Store the job; keep the lease while it runs, release it once it waits or ended."""
        running = job.state == "running"
        lease = {"owner": self._me if running else None, "lease_until": now + LEASE if running else None}
        # updated_at: what the site shows of a finished job once it no longer holds the job's last snapshot.
        self._jobs.replace_one({"_id": job.job_id}, {**job.to_doc(), **lease, "updated_at": format_time(now)})

    def place(self, job: pj.Job) -> bool:
        """Store a new plan for a waiting job, unless it changed meanwhile or someone holds it."""
        doc = {**job.to_doc(), "owner": None, "lease_until": None}
        return self._jobs.replace_one({"_id": job.job_id, "seq": job.seq - 1, "owner": None}, doc).modified_count == 1

    def active(self) -> list[pj.Job]:
        """Every job not yet finished, whoever holds it."""
        return [pj.Job.from_doc(d) for d in self._jobs.find({"state": {"$in": list(ACTIVE_STATES)}})]

    def runnable(self, now: datetime) -> list[pj.Job]:
        """Active jobs this worker could claim now."""
        docs = self._jobs.find({"state": {"$in": list(ACTIVE_STATES)}})
        free = [d for d in docs if d.get("owner") in (None, self._me) or _aware(d["lease_until"]) < now]
        return pj.due((pj.Job.from_doc(d) for d in free), now)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # pymongo hands back naive UTC


class QuotaLedger:
    """Units spent per Pacific day, shared by every worker of the site (one Google project)."""

    def __init__(self, db: Database, budget: int) -> None:
        self._days = db[QUOTA]
        self._budget = budget

    @property
    def budget(self) -> int:
        return self._budget

    def reserve(self, day: date, units: int) -> bool:
        """Book `units` on `day` if they fit the budget (atomic, so workers can't overbook together)."""
        key = day.isoformat()
        while True:
            booked = self._days.update_one(
                {"_id": key, "units": {"$lte": self._budget - units}}, {"$inc": {"units": units}}
            )
            if booked.modified_count == 1:
                return True
            try:
                self._days.insert_one({"_id": key, "units": 0})  # the day's first booking
            except DuplicateKeyError:
                return False  # the day exists: its budget is spent

    def exhaust(self, day: date) -> None:
        """YouTube said quotaExceeded: nobody should try again today."""
        self._days.update_one({"_id": day.isoformat()}, {"$set": {"units": self._budget}}, upsert=True)

    def spent(self, day: date) -> int:
        """Units booked on `day` (the budget once YouTube said it is spent)."""
        doc = self._days.find_one({"_id": day.isoformat()})
        return 0 if doc is None else int(doc["units"])


class VideoChecks:
    """Whether each video could be played in someone's playlist, as `videos.list` said within VIDEO_CHECK_TTL,
    shared by every job: a dead or non-embeddable video is not checked again, nor a good one."""

    def __init__(self, db: Database) -> None:
        self._videos = db[VIDEOS]

    def known(self, video_ids: Collection[str], now: datetime) -> dict[str, bool]:
        """Playability of the ids checked since now - VIDEO_CHECK_TTL."""
        docs = self._videos.find({"_id": {"$in": list(video_ids)}, "checked_at": {"$gte": now - VIDEO_CHECK_TTL}})
        return {doc["_id"]: bool(doc["playable"]) for doc in docs}

    def remember(self, playable: Mapping[str, bool], now: datetime) -> None:
        """Record answers; answers older than the TTL go at the same time."""
        if playable:
            self._videos.bulk_write([UpdateOne({"_id": video_id}, {"$set": {"playable": ok, "checked_at": now}},
                                               upsert=True) for video_id, ok in playable.items()], ordered=False)
        self._videos.delete_many({"checked_at": {"$lt": now - VIDEO_CHECK_TTL}})
