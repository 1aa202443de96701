"""Playlist jobs in turns: claim the job whose turn it is, check its videos, create its playlist and add a few videos
within the quota, then put it back in the queue and tell every waiting job its place and estimate."""


from __future__ import annotations

import asyncio
import logging

import orjson
from aiokafka import AIOKafkaProducer
from pymongo.database import Database

from runtime.settings import Settings
from sinks.user_tokens import TokenKeyError, UserTokenStore
from stream_processors.youtube import jobs as pj
from stream_processors.youtube import schedule
from stream_processors.youtube.client import (
    Outcome,
    Sleep,
    YouTube,
    YouTubeError,
    credentials_from_token,
    rotated_token,
)
from stream_processors.youtube.repositories import Clock, JobStore, QuotaExhausted, QuotaLedger, VideoChecks

log = logging.getLogger(__name__)


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
        self.checks = VideoChecks(db)
        self.tokens = UserTokenStore(db, settings.token_key)
        self.producer = producer
        self.clock = clock
        self.sleep = sleep
        # Round-robin state: each user's last turn (schedule.rotation); a restart just starts a new round.
        self.served: dict[str, int] = {}
        self._turns = 0
        # Jobs whose turn raised: left out until the next tick, so one broken job does not spin.
        self._resting: set[str] = set()
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        """Something may be runnable: a new job, a tick (parked jobs whose quota day is over, abandoned leases)."""
        self._wakeup.set()

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
            value = orjson.loads(message or b"null")
            job = pj.parse_job(value)
        except (orjson.JSONDecodeError, pj.InvalidJob) as exc:
            log.warning("dropping invalid playlist request: %s", exc)
            return
        if not await asyncio.to_thread(self.store.is_on_record, value):
            # Only the site writes its records: whoever else can write to the topic cannot act for a user.
            log.warning("dropping playlist request %s: the site has no such request on record", job.job_id)
            return
        if await asyncio.to_thread(self.store.create, job):
            await self.publish(job)
        self.wake()

    def tick(self) -> None:
        self._resting.clear()
        self.wake()

    async def run_jobs(self) -> None:
        """The only task that writes jobs in this process: turns, one at a time, and the plans between them."""
        while True:
            self._wakeup.clear()
            try:
                await self.replan()
                due = [j for j in await asyncio.to_thread(self.store.runnable, self.clock())
                       if j.job_id not in self._resting]
            except Exception:
                log.exception("could not scan playlist jobs")  # the store is down: try again on the next tick
                due = []
            job = schedule.next_job(due, self.served)
            if job is None:
                await self._wakeup.wait()
                continue
            try:
                await self.run_turn(job.job_id)
            except Exception:
                # Left active in the store: it gets its next turn after a tick.
                log.exception("playlist job %s interrupted", job.job_id)
                self._resting.add(job.job_id)

    async def replan(self) -> None:
        """Publish a new place and estimate for each waiting job whose place or estimate changed."""
        now = self.clock()
        active = await asyncio.to_thread(self.store.active)
        spent = await asyncio.to_thread(self.ledger.spent, pj.quota_day(now))
        by_id = {job.job_id: job for job in active}
        for job_id, p in schedule.progress(active, self.served, now, spent, self.ledger.budget).items():
            job = by_id[job_id]
            if job.state == "running" or (job.queue_position, job.eta_text) == (p.queue_position, p.eta_text):
                continue  # a job running elsewhere reports itself
            placed = pj.placed(job, p.queue_position, p.eta, p.eta_text)
            if await asyncio.to_thread(self.store.place, placed):
                await self.publish(placed)

    async def run_turn(self, job_id: str) -> None:
        job = await asyncio.to_thread(self.store.claim, job_id, self.clock())
        if job is None:
            return
        if job.resume_at is not None and job.resume_at > self.clock():
            await asyncio.to_thread(self.store.save, job, self.clock())  # not due yet: just drop the lease
            return
        self._turns += 1
        self.served[job.user_id] = self._turns
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
        try:
            token = await asyncio.to_thread(worker.tokens.load, job.user_id)
        except TokenKeyError:  # no configured key decrypts it (a key was dropped): it is gone for good
            log.warning("playlist job %s: the stored token of %s does not decrypt", job.job_id, job.user_id)
            return await self.advance(pj.failed(job, pj.SIGN_IN_AGAIN_MESSAGE))
        if not token or not (token.get("refresh_token") or token.get("access_token")):
            return await self.advance(pj.failed(job, pj.RECONNECT_MESSAGE))
        creds = credentials_from_token(token, worker.settings)
        youtube = await YouTube.connect(creds, worker.settings.youtube_api_endpoint, worker.reserve, worker.sleep)
        try:
            await self._fill(youtube, interrupted)
        finally:
            if (fresh := rotated_token(creds, token)) is not None:
                await asyncio.to_thread(worker.tokens.save, job.user_id, fresh)

    async def _check(self, youtube: YouTube) -> set[str]:
        """The playable ones among the job's videos: from the last day's answers, else from videos.list."""
        worker, ids = self.worker, list(dict.fromkeys(self.job.video_ids))
        known = await asyncio.to_thread(worker.checks.known, ids, worker.clock())
        for chunk in pj.chunks([v for v in ids if v not in known]):
            found = {v["id"]: pj.is_playable(v) for v in await youtube.videos(list(chunk))}
            answers = {video_id: found.get(video_id, False) for video_id in chunk}  # absent: gone or private
            await asyncio.to_thread(worker.checks.remember, answers, worker.clock())
            known.update(answers)
        return {video_id for video_id, playable in known.items() if playable}

    async def _fill(self, youtube: YouTube, interrupted: bool) -> None:
        """One turn: the pre-check and the playlist when still needed, then up to TURN_ITEMS videos."""
        try:
            if self.job.items is None:
                await self.advance(pj.checked(self.job, await self._check(youtube)))
            if not self.job.items:
                return await self.advance(pj.failed(self.job, "none of the requested videos can be played"))
            if self.job.playlist_id is None:
                await self.advance(pj.playlist_created(self.job, await youtube.create_playlist(
                    self.job.title, self.job.privacy)))
            elif interrupted:
                present = await youtube.playlist_video_ids(self.job.playlist_id)
                if (job := pj.reconciled(self.job, set(present))) is not self.job:
                    await self.advance(job)
            for video_id in self.job.remaining[: schedule.TURN_ITEMS]:
                await self.advance(await self._add(youtube, video_id))
            await self.advance(pj.paused(self.job) if self.job.remaining else pj.finished(self.job))
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


