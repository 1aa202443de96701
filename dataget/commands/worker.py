"""`dataget worker`: runs the indexer (entity topics -> Mongo + Redis facet index) in this process."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import threading
from typing import Any, NoReturn

import faust
from redis.asyncio import Redis

from runtime.settings import Settings, redis_address
from runtime.topic_admin import ensure_topics
from sinks.redis_memory import EvictingRedis, IndexMemoryFull, RedisMemory, check_policy, redis_memory, size_text
from stream_processors.app import create_app


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="index entity topics into MongoDB and the Redis facet index")
    parser.add_argument("--namespace", default=None,
                        help="reindex: write only this facet index namespace, reading every topic from the start "
                             "under its own consumer group (default: the live worker, Mongo + the active index)")
    parser.add_argument("--shutdown-grace", type=float, default=SHUTDOWN_GRACE_S, metavar="SECONDS",
                        help="on SIGTERM/SIGINT, exit without committing if stopping takes longer than this "
                             f"(default {SHUTDOWN_GRACE_S:g}; the batch in hand is redelivered on restart)")
    parser.set_defaults(func=run)


# Stopping waits for the batch in hand, and while a store is down that batch retries forever. Ending it any other
# way would ack it (faust acks a take() batch however its handler ends), so past the grace the process exits
# at once: nothing more is committed and the batch is redelivered when a worker starts again.
SHUTDOWN_GRACE_S = 30.0
# Young objects collected every GC_THRESHOLDS[0] allocations instead of CPython's 700 (see tune_gc).
GC_THRESHOLDS = (50_000, 20, 20)
# Exit statuses (sysexits.h): the index's Redis is full, so try again once it has more memory (EX_TEMPFAIL); it would
# evict index keys, or the index has an older key layout (`dataget reindex` builds a new one) (EX_CONFIG).
INDEX_FULL = 75
EVICTING_REDIS = 78
# What the worker writes to stderr before such an exit, so `dataget reindex` finds it in the worker's log.
STOP_PREFIX = "dataget worker: "
log = logging.getLogger(__name__)


def tune_gc() -> None:
    """Collect garbage for a process whose heap is long-lived (faust, aiokafka, pymongo) and whose batches allocate
    ~100k objects without reference cycles (decoded records, BSON, facet payloads). With CPython's defaults the
    collector walked each batch again every few records, and the full collections the batches set off walked the
    whole heap: decoding a release took ~125 us instead of ~27 (bench/pipeline.py: 1.66k -> 2.12k releases/s).
    The heap built so far is frozen out of the collector's walks.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _exit_now(status: int) -> NoReturn:
    """End the process at once: faust commits nothing more, so the batches in hand are redelivered on restart."""
    logging.shutdown()
    os._exit(status)


def _abandon(grace: float) -> None:
    log.warning("could not stop within %.0f s (a store is unreachable?): exiting without committing the batch in "
                "hand; it is redelivered on restart", grace)
    _exit_now(1)


def stop_for(exc: BaseException) -> NoReturn:
    """The indexer's stop (stream_processors.app.create_app): the index's Redis can't take more, or the index is of
    an older layout."""
    log.critical("%s", exc)
    # faust redirects sys.stderr into its logger; the line must reach the real one.
    print(f"{STOP_PREFIX}{exc}", file=sys.__stderr__, flush=True)
    _exit_now(INDEX_FULL if isinstance(exc, IndexMemoryFull) else EVICTING_REDIS)


async def index_redis_memory(settings: Settings) -> RedisMemory:
    """The index's Redis as the workers need it; EvictingRedis when it would evict index keys."""
    redis = Redis.from_url(settings.redis_url)
    try:
        memory = await redis_memory(redis)
    finally:
        await redis.aclose()
    check_policy(memory, redis_address(settings.redis_url))
    return memory


def check_index_redis(settings: Settings, command: str) -> int | None:
    """Before an index worker starts: the exit status to refuse with (the reason printed), or None to go on."""
    try:
        memory = asyncio.run(index_redis_memory(settings))
    except EvictingRedis as exc:
        print(f"dataget {command}: {exc}", file=sys.stderr)
        return EVICTING_REDIS
    if not memory.maxmemory:
        log.warning("Redis at %s has no maxmemory: the index workers stop at %.0f%% of its machine's %s, and Redis may "
                    "grow past what the machine can spare before that; give it one (CONFIG SET maxmemory, "
                    "DATAGET_REDIS_MAXMEMORY for the local stack)", redis_address(settings.redis_url),
                    settings.index_memory_limit * 100, size_text(memory.system))
    return None


class IndexerWorker(faust.Worker):
    def __init__(self, app: faust.App, shutdown_grace: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._shutdown_grace = shutdown_grace

    async def stop(self) -> None:
        # A thread, not the event loop: the loop is the thing that may be stuck.
        deadline = threading.Timer(self._shutdown_grace, _abandon, args=(self._shutdown_grace,))
        deadline.daemon = True
        deadline.start()
        await super().stop()


def run(args: argparse.Namespace, settings: Settings) -> int:
    refused = check_index_redis(settings, "worker")
    if refused is not None:
        return refused
    # Subscribing to a topic that doesn't exist yet would only be noticed at the next metadata refresh.
    ensure_topics(settings)
    app = create_app(settings, stop_for, index_namespace=args.namespace)
    tune_gc()
    loglevel = "debug" if logging.getLogger().isEnabledFor(logging.DEBUG) else "info"
    # faust's Worker installs SIGTERM/SIGINT handlers that stop the agents and commit before exiting.
    worker = IndexerWorker(app, shutdown_grace=args.shutdown_grace, loglevel=loglevel)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0

