"""The faust app of the indexer: entity topics -> Mongo + Redis facet index (agents in stream_processors.agents)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import NoReturn

import faust
import pymongo
import redis.asyncio

from runtime.lag import group_lag
from runtime.settings import Settings, redis_address
from schemas.topics import indexer_group_id, replay_group_id
from sinks.aof_rewrites import BACKLOG_LOOK_S, BacklogPause, RewritePause
from sinks.facet_index import FacetIndex
from sinks.index_versions import ActiveIndex
from sinks.mongo_store import MongoStore
from sinks.record_packing import RecordPacker
from sinks.redis_memory import GuardedIndex, MemoryGuard
from stream_processors.agents import Deps, DiscardStore, Index, RecordStore, register_agents

# Events per batch: one insert_many per batch, and FerretDB inserts 100 documents per SQL statement; larger
# batches gain little and hold more un-committed work at a crash.
BATCH_SIZE = 500
# A replay writes the index alone, and a call writes each value's counts and shared number sets once for all its
# releases: with 2000 a 1M-release reindex took 19% less time than with 500 (bench/README.md, Reindex). A call holds
# Redis' one core ~0.14 ms a release, so a query arriving meanwhile may wait ~0.3 s.
REPLAY_BATCH_SIZE = 2000
BATCH_WITHIN_S = 1.0
# Fail fast on a down server so the agent's backoff, not a driver timeout, paces the retries.
MONGO_TIMEOUT_MS = 5000


def create_app(settings: Settings, stop: Callable[[BaseException], NoReturn],
               index_namespace: str | None = None) -> faust.App:
    """The indexer app. Without `index_namespace` it is the live worker: Mongo plus the active index version
    (it follows a reindex switch). With one it is a reindex worker: only that index namespace, under its own
    consumer group so it reads every topic from the start (Mongo is the live worker's, and rewriting every
    document would be slow on FerretDB for nothing). `stop` ends the process, uncommitted, when the index's Redis
    cannot take more (sinks/redis_memory.py).
    """
    app_id = (indexer_group_id(settings.namespace) if index_namespace is None
              else replay_group_id(settings.namespace, index_namespace))
    # Faust makes its data directory (empty with memory stores) but not its parents; under the state directory, not
    # in the working directory.
    datadir = settings.state_dir / "faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        key_serializer="raw",
        # Raw bytes: the agents decode JSON themselves, so a bad value becomes a dead letter instead of a
        # faust decode error (which acks and skips silently).
        value_serializer="raw",
        store="memory://",
        datadir=str(datadir),
        topic_partitions=8,
        web_enabled=False,
        autodiscover=False,
        # Commit processed offsets often: less to re-process (idempotently) after a crash.
        broker_commit_interval=1.0,
        consumer_auto_offset_reset="earliest",
    )
    redis_client = redis.asyncio.Redis.from_url(settings.redis_url)
    active = ActiveIndex(redis_client, settings.namespace)
    replay = None if index_namespace is None else FacetIndex(redis_client, index_namespace)

    async def indexed_releases() -> int:
        return int((await (replay or await active.current()).stats())["releases"])

    async def release_progress() -> tuple[int, int]:
        [releases] = await asyncio.to_thread(group_lag, settings, app_id, [settings.topics.entity("releases")])
        return releases.committed, releases.lag

    address = redis_address(settings.redis_url)
    guard = MemoryGuard(redis_client, address, settings.index_memory_limit, indexed_releases, release_progress)
    index: Index = GuardedIndex(replay or active, guard)
    if settings.aof_pause_backlog:
        # Holders are named after the consumer group, so a reindex lets go of its workers' holds by that prefix.
        backlog = BacklogPause(RewritePause(redis_client, address, f"{app_id}:{os.getpid()}"), release_progress,
                               settings.aof_pause_backlog)
        app.task(backlog.follow)  # at start: a worker started behind a whole dump holds at once
        app.timer(BACKLOG_LOOK_S)(backlog.follow)
    dlq = app.topic(settings.topics.dlq, key_serializer="raw", value_serializer="raw")

    async def send_dead_letter(key: str, value: bytes) -> None:
        delivered = await dlq.send(key=key.encode(), value=value)
        await delivered  # at-least-once: the batch is acked only after Kafka has its dead letters

    store: RecordStore = DiscardStore()
    if index_namespace is None:
        mongo: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            settings.mongo_url, serverSelectionTimeoutMS=MONGO_TIMEOUT_MS, connectTimeoutMS=MONGO_TIMEOUT_MS)
        packer = RecordPacker.load() if settings.mongo_documents == "compressed" else None
        store = MongoStore(mongo[settings.mongo_db], packer=packer)
    deps = Deps(store=store, index=index, send_dead_letter=send_dead_letter, stop=stop)
    register_agents(app, settings.topics, deps, BATCH_SIZE if index_namespace is None else REPLAY_BATCH_SIZE,
                    BATCH_WITHIN_S)
    return app
