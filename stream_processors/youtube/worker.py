"""`dataget youtube-worker`: turns `playlist.requests` jobs into YouTube playlists and reports on `playlist.status`.

Why a plain aiokafka consumer and not a faust agent: a job can take days (the whole site shares 10,000 quota units,
about 199 videos a day) and faust must not hold an event that long (notes 5.4: in-flight events block commits and
rebalances; exceptions silently ack). So the consumer only records each request as a job document (Mongo
`playlist_jobs` in the `_app` database), publishes `queued` and then commits (enable_auto_commit=False). One runner
task drives jobs one at a time (quota is the limit; YouTube wants one insert at a time per playlist). A timer
re-queues what is runnable: new jobs, parked jobs whose quota day is over, and jobs interrupted by a crash.

A job persists after every step (playlist created, each video) before its snapshot is published, and holds a lease
(`owner`, `lease_until`) while it runs, so several workers may share the topic: give each a distinct
`--worker-id` (default: the host name, so a restarted worker resumes its own jobs immediately; others take over an
abandoned job when its lease expires). A job found `running` when claimed was interrupted: its playlist is listed
once and videos already in it count as done, so an insert that landed unrecorded is not repeated.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import MongoClient, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from dataget.local_secrets import with_local_secrets
from dataget.settings import Settings
from dataget.topic_admin import ensure_topics
from sinks.user_tokens import UserTokenStore
from stream_processors import playlist_jobs as pj
from stream_processors.youtube_client import (
    Outcome,
    Sleep,
    YouTube,
    YouTubeError,
    credentials_from_token,
    rotated_token,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
JOBS = "playlist_jobs"
QUOTA = "youtube_quota"
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
        self._me = worker_id

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
            {"_id": job_id, "state": {"$in": list(pj.ACTIVE_STATES)},
             "$or": [{"owner": None}, {"owner": self._me}, {"lease_until": {"$lt": now}}]},
            {"$set": {"owner": self._me, "lease_until": now + LEASE}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else pj.Job.from_doc(doc)

    def save(self, job: pj.Job, now: datetime) -> None:
        """Store the job; keep the lease while it runs, release it once it waits or ended."""
        running = job.state == "running"
        lease = {"owner": self._me if running else None, "lease_until": now + LEASE if running else None}
        self._jobs.replace_one({"_id": job.job_id}, {**job.to_doc(), **lease})

    def runnable(self, now: datetime) -> list[pj.Job]:
        """Active jobs this worker could claim now."""
        docs = self._jobs.find({"state": {"$in": list(pj.ACTIVE_STATES)}})
        free = [d for d in docs if d.get("owner") in (None, self._me) or _aware(d["lease_until"]) < now]
        return pj.due((pj.Job.from_doc(d) for d in free), now)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # pymongo hands back naive UTC


class QuotaLedger:
    """Units spent per Pacific day, shared by every worker of the site (one Google project)."""

    def __init__(self, db: Database, budget: int) -> None:
        self._days = db[QUOTA]
        self._budget = budget

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


class PlaylistWorker:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        producer: AIOKafkaProducer,
        *,
        clock: Clock,
        sleep: Sleep,
        daily_units: int,
        worker_id: str,
    ) -> None:
        self.settings = settings
        self.store = JobStore(db, worker_id)
        self.ledger = QuotaLedger(db, daily_units)
        self.tokens = UserTokenStore(db, settings.token_key)
        self.producer = producer
        self.clock = clock
        self.sleep = sleep
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self._pending: set[str] = set()

    def enqueue(self, job_id: str) -> None:
        if job_id not in self._pending:
            self._pending.add(job_id)
            self.queue.put_nowait(job_id)

    async def publish(self, job: pj.Job) -> None:
        value = orjson.dumps(pj.snapshot(job, self.clock()))
        await self.producer.send_and_wait(self.settings.topics.playlist_status, value, key=job.job_id.encode())

    async def persist(self, job: pj.Job) -> pj.Job:
        """Save first, then publish: a snapshot never announces progress that a restart could lose."""
        await asyncio.to_thread(self.store.save, job, self.clock())
        await self.publish(job)
        return job

    async def accept(self, message: bytes | None) -> None:
        """Record one request message as a queued job (the caller commits afterwards)."""
        try:
            job = pj.parse_job(orjson.loads(message or b"null"))
        except (orjson.JSONDecodeError, pj.InvalidJob) as exc:
            log.warning("dropping invalid playlist request: %s", exc)
            return
        if await asyncio.to_thread(self.store.create, job):
            await self.publish(job)
        self.enqueue(job.job_id)

    async def requeue_runnable(self) -> None:
        for job in await asyncio.to_thread(self.store.runnable, self.clock()):
            self.enqueue(job.job_id)

    async def run_jobs(self) -> None:
        while True:
            job_id = await self.queue.get()
            try:
                await self.run_job(job_id)
            except Exception:
                # Left active in the store: the timer retries it on a later tick.
                log.exception("playlist job %s interrupted", job_id)
            finally:
                self._pending.discard(job_id)

    async def run_job(self, job_id: str) -> None:
        job = await asyncio.to_thread(self.store.claim, job_id, self.clock())
        if job is None:
            return
        if job.resume_at is not None and job.resume_at > self.clock():
            await asyncio.to_thread(self.store.save, job, self.clock())  # not due yet: just drop the lease
            return
        run = JobRun(self, job)
        await run.advance(pj.start(job))
        try:
            await run.execute(interrupted=job.state == "running")
        except QuotaExhausted:
            await run.advance(pj.parked(run.job, pj.next_reset(self.clock())))
        except YouTubeError as exc:
            log.warning("playlist job %s failed: %s", job_id, exc)
            await run.advance(pj.failed(run.job, exc.message))

    async def reserve(self, method: str) -> None:
        if not await asyncio.to_thread(self.ledger.reserve, pj.quota_day(self.clock()), pj.UNIT_COSTS[method]):
            raise QuotaExhausted


class JobRun:
    """One attempt at a job; `job` is always the last persisted state."""

    def __init__(self, worker: PlaylistWorker, job: pj.Job) -> None:
        self.worker = worker
        self.job = job

    async def advance(self, job: pj.Job) -> None:
        self.job = await self.worker.persist(job)

    async def execute(self, interrupted: bool) -> None:
        worker, job = self.worker, self.job
        if reason := pj.too_long(job):
            return await self.advance(pj.failed(job, reason))
        token = await asyncio.to_thread(worker.tokens.load, job.user_id)
        if not token or not (token.get("refresh_token") or token.get("access_token")):
            return await self.advance(pj.failed(job, pj.RECONNECT_MESSAGE))
        creds = credentials_from_token(token, worker.settings)
        youtube = await YouTube.connect(creds, worker.settings.youtube_api_endpoint, worker.reserve, worker.sleep)
        try:
            await self._fill(youtube, interrupted)
        finally:
            if (fresh := rotated_token(creds, token)) is not None:
                await asyncio.to_thread(worker.tokens.save, job.user_id, fresh)

    async def _fill(self, youtube: YouTube, interrupted: bool) -> None:
        try:
            if self.job.items is None:
                playable: set[str] = set()
                for chunk in pj.chunks(list(dict.fromkeys(self.job.video_ids))):
                    playable |= {v["id"] for v in await youtube.videos(list(chunk)) if pj.is_playable(v)}
                await self.advance(pj.checked(self.job, playable))
            if not self.job.items:
                return await self.advance(pj.failed(self.job, "none of the requested videos can be played"))
            if self.job.playlist_id is None:
                await self.advance(pj.playlist_created(self.job, await youtube.create_playlist(
                    self.job.title, self.job.privacy)))
            elif interrupted:
                present = await youtube.playlist_video_ids(self.job.playlist_id)
                if (job := pj.reconciled(self.job, set(present))) is not self.job:
                    await self.advance(job)
            for video_id in self.job.remaining:
                await self.advance(await self._add(youtube, video_id))
            await self.advance(pj.finished(self.job))
        except YouTubeError as exc:
            if exc.outcome is not Outcome.QUOTA:
                raise
            await asyncio.to_thread(self.worker.ledger.exhaust, pj.quota_day(self.worker.clock()))
            raise QuotaExhausted from exc

    async def _add(self, youtube: YouTube, video_id: str) -> pj.Job:
        assert self.job.playlist_id is not None
        try:
            await youtube.add_video(self.job.playlist_id, video_id)
        except YouTubeError as exc:
            if exc.outcome is Outcome.SKIP:
                return pj.item_skipped(self.job)
            if exc.outcome is not Outcome.DUPLICATE:  # a duplicate means an earlier attempt landed
                raise
        return pj.item_added(self.job)


async def _consume(settings: Settings, worker: PlaylistWorker, ready: asyncio.Event | None) -> None:
    consumer = AIOKafkaConsumer(
        settings.topics.playlist_requests,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=f"{settings.namespace}-youtube",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="dataget-youtube-worker",
    )
    await consumer.start()
    try:
        if ready is not None:
            ready.set()
        async for message in consumer:
            await worker.accept(message.value)
            await consumer.commit()
    finally:
        await consumer.stop()


async def _tick(worker: PlaylistWorker, every: float) -> None:
    while True:
        try:
            await worker.requeue_runnable()
        except Exception:
            log.exception("could not scan playlist jobs")
        await asyncio.sleep(every)


async def run_worker(
    settings: Settings,
    *,
    stop: asyncio.Event,
    clock: Clock = utc_now,
    sleep: Sleep = asyncio.sleep,
    daily_units: int = pj.DEFAULT_DAILY_UNITS,
    worker_id: str | None = None,
    tick: float = DEFAULT_TICK,
    ready: asyncio.Event | None = None,
) -> None:
    """Run until `stop` is set. `clock` decides quota days and resumption; `sleep` is the retry backoff."""
    mongo: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True,
        client_id="dataget-youtube-worker",
    )
    await producer.start()
    try:
        worker = PlaylistWorker(
            settings, mongo[settings.app_mongo_db], producer, clock=clock, sleep=sleep,
            daily_units=daily_units, worker_id=worker_id or socket.gethostname(),
        )
        tasks = [
            asyncio.create_task(_consume(settings, worker, ready), name="youtube-consume"),
            asyncio.create_task(worker.run_jobs(), name="youtube-jobs"),
            asyncio.create_task(_tick(worker, tick), name="youtube-tick"),
        ]
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([*tasks, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:  # also when we are cancelled: no task may outlive the producer
            for task in [*tasks, stopped]:
                task.cancel()
            outcomes = await asyncio.gather(*tasks, stopped, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                raise outcome  # a task crashed (e.g. the broker went away): let the supervisor restart us
    finally:
        await producer.stop()
        mongo.close()


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("youtube-worker", help="create YouTube playlists from playlist.requests jobs")
    parser.add_argument("--daily-units", type=int, default=pj.DEFAULT_DAILY_UNITS,
                        help="YouTube API units this site may spend per Pacific day (default %(default)s)")
    parser.add_argument("--worker-id", default=None, help="unique per worker process (default: host name)")
    parser.add_argument("--tick", type=float, default=DEFAULT_TICK,
                        help="seconds between scans for runnable jobs (default %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings = with_local_secrets(settings)
    ensure_topics(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop=stop, daily_units=args.daily_units, worker_id=args.worker_id,
                         tick=args.tick)

    asyncio.run(main())
    return 0
