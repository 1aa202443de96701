"""The YouTube worker's Kafka loop: turns `playlist.requests` jobs into YouTube playlists, reports on `playlist.status`.

Why a plain aiokafka consumer and not a faust agent: a job can take days (the whole site shares 10,000 quota units,
about 199 videos a day) and faust must not hold an event that long (in-flight events block commits and rebalances,
and an exception silently acks the event). So the consumer only records each request as a job document (Mongo
`playlist_jobs` in the `_app` database), publishes `queued` and then commits (enable_auto_commit=False). One runner
task gives jobs turns one at a time (quota is the limit; YouTube wants one insert at a time per playlist), round-robin
by user (schedule.py), and between turns tells waiting jobs their place and estimate. A new job and a timer wake it
for what became runnable: parked jobs whose quota day is over, and jobs interrupted by a crash.

A job persists after every step (playlist created, each video) before its snapshot is published, and holds a lease
(`owner`, `lease_until`) while it runs, so several workers may share the topic: give each a distinct
`--worker-id` (default: the host name, so a restarted worker resumes its own jobs immediately; others take over an
abandoned job when its lease expires). A job found `running` when claimed was interrupted: its playlist is listed
once and videos already in it count as done, so an insert that landed unrecorded is not repeated.
"""


from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import MongoClient

from runtime.settings import Settings
from schemas.topics import youtube_group_id
from stream_processors.youtube.client import Sleep
from stream_processors.youtube.orchestration import PlaylistWorker
from stream_processors.youtube.repositories import DEFAULT_TICK, Clock, utc_now

log = logging.getLogger(__name__)


async def _consume(settings: Settings, worker: PlaylistWorker, ready: asyncio.Event | None) -> None:
    consumer = AIOKafkaConsumer(
        settings.topics.playlist_requests,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=youtube_group_id(settings.namespace),
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
        worker.tick()
        await asyncio.sleep(every)


async def run_worker(
    settings: Settings,
    *,
    stop: asyncio.Event,
    clock: Clock = utc_now,
    sleep: Sleep = asyncio.sleep,
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
            daily_units=settings.youtube_daily_units, worker_id=worker_id or socket.gethostname(),
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

