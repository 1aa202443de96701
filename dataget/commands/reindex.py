"""`dataget reindex`: replay every entity topic into a new index version and switch the site to it.

Steps: a new namespace -> workers for it under a fresh consumer group (reads every topic from the start)
-> wait until it caught up -> switch the active version (one Redis SET: queries never see a half-built
index) -> wait again, so what the live worker put only into the old version before the switch is in the new
one too -> stop that worker, drop the old version and the replay's consumer group. The workers hold automatic AOF
rewrites off while they build (sinks/aof_rewrites.py); once they are stopped, one rewrite follows the build.

Until the switch Redis holds both versions. With --in-place the switch comes first and the old version is dropped
before the replay starts, so an index that fits only once (the whole catalogue on one machine) can be rebuilt; the
site then answers from the new version as it grows, and the live worker writes there too (the replay reads every
topic to its end, so each record ends at its latest version whichever of the two wrote it last).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from kafka import KafkaAdminClient
from redis.asyncio import Redis

from dataget.commands.worker import INDEX_FULL, STOP_PREFIX, check_index_redis
from runtime.lag import group_lag, wait_for_lag_zero
from runtime.progress import progress
from runtime.settings import Settings, settings_env
from runtime.topic_admin import ensure_topics
from schemas.topics import ENTITIES, replay_group_id
from sinks.aof_rewrites import release_holders, rewrite_aof
from sinks.facet_index import FacetIndex
from sinks.index_versions import activate_confirmed, new_index_namespace

log = logging.getLogger(__name__)
T = TypeVar("T")
# How long the switch may take to reach the read replicas before reindex says which have not got it.
REPLICA_WAIT_MS = 10_000
# A worker decodes a batch, then waits for Redis to run its scripts: with two, one decodes while the other's scripts
# run, and Redis' core, the limit, stays busy (the group shares the topics' partitions between them).
WORKERS = 2


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("reindex", help="rebuild the index from the topics into a new version, then switch")
    parser.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    parser.add_argument("--workers", type=int, default=WORKERS, help="worker processes replaying the topics")
    parser.add_argument("--in-place", action="store_true",
                        help="switch to the new version and drop the active one before the replay: Redis needs room "
                             "for one index, not two, and the site shows the new one as it grows")
    parser.set_defaults(func=run)


async def _redis_call(settings: Settings, fn: Callable[..., Awaitable[T]], *args: object) -> T:
    redis = Redis.from_url(settings.redis_url)
    try:
        return await fn(redis, *args)
    finally:
        await redis.aclose()


async def _drop(redis: Redis, namespace: str) -> None:
    await FacetIndex(redis, namespace).drop()


class WorkerStopped(Exception):
    """A reindex worker exited before the replay caught up."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def stop_reason(log_file: Path, status: int) -> str:
    """Why the worker stopped: the last line it wrote for that (worker.STOP_PREFIX), else its exit status."""
    lines = [line for line in log_file.read_text(errors="replace").splitlines() if line.startswith(STOP_PREFIX)]
    if lines:
        return lines[-1].removeprefix(STOP_PREFIX)
    return f"the reindex worker exited with status {status}; see {log_file}"


def _wait(settings: Settings, group: str, topics: list[str], timeout: float | None, label: str,
          workers: list[subprocess.Popen[bytes]], log_file: Path) -> None:
    total = sum(t.end for t in group_lag(settings, group, topics))
    with progress(label, "msg", total=total) as on_progress:

        def on_lag(lag: int) -> None:
            on_progress(max(0, total - lag))
            if not lag:
                return
            for worker in workers:
                if (status := worker.poll()) is not None:
                    raise WorkerStopped(status, stop_reason(log_file, status))

        wait_for_lag_zero(settings, group, topics, timeout=timeout, on_progress=on_lag)


def _switch(settings: Settings, namespace: str) -> str:
    """Activate namespace; returns the version it replaced (says so when read replicas did not confirm in time)."""
    replicas = len(settings.redis_replica_urls)
    previous, confirmed = asyncio.run(_redis_call(settings, activate_confirmed, settings.namespace, namespace,
                                                  replicas, REPLICA_WAIT_MS))
    if confirmed < replicas:
        print(f"dataget reindex: {confirmed} of {replicas} read replicas had the switch within "
              f"{REPLICA_WAIT_MS // 1000} s; the others answer from {previous} until they catch up",
              file=sys.stderr)
    return previous


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers < 1:
        print("dataget reindex: --workers must be at least 1", file=sys.stderr)
        return 2
    refused = check_index_redis(settings, "reindex")
    if refused is not None:
        return refused
    ensure_topics(settings)
    return _rebuild(args, settings)


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    namespace = asyncio.run(_redis_call(settings, new_index_namespace, settings.namespace))
    group = replay_group_id(settings.namespace, namespace)
    topics = [settings.topics.entity(e) for e in ENTITIES]
    previous = ""
    if args.in_place:
        previous = _switch(settings, namespace)
        asyncio.run(_redis_call(settings, _drop, previous))
        # The AOF would keep the dropped version until the rewrite after the build, beside all the build writes.
        asyncio.run(_redis_call(settings, rewrite_aof))
    switched = args.in_place
    dataget = str(Path(sys.executable).with_name("dataget"))
    log_file = Path(settings.stack_dir) / "logs" / f"reindex-{namespace.replace(':', '-')}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        workers = [subprocess.Popen([dataget, "worker", "--namespace", namespace],
                                    env={**os.environ, **settings_env(settings)}, stdout=out, stderr=subprocess.STDOUT)
                   for _ in range(args.workers)]
    try:
        _wait(settings, group, topics, args.timeout, f"reindex into {namespace}", workers, log_file)
        if not switched:
            previous = _switch(settings, namespace)
            switched = True
            _wait(settings, group, topics, args.timeout, "catching up after the switch", workers, log_file)
    except (TimeoutError, WorkerStopped) as exc:
        status = exc.status if isinstance(exc, WorkerStopped) else 1
        print(f"dataget reindex: {exc}; {_left_behind(args.in_place, switched, status, namespace, previous)}",
              file=sys.stderr)
        return status
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
        asyncio.run(_redis_call(settings, release_holders, f"{group}:"))
        if not switched:
            asyncio.run(_redis_call(settings, _drop, namespace))
        elif args.in_place:  # what a live batch in flight at the switch still wrote to the old version
            asyncio.run(_redis_call(settings, _drop, previous))
    if not args.in_place:
        asyncio.run(_redis_call(settings, _drop, previous))
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.delete_groups([group])
    finally:
        admin.close()
    print(f"index version {namespace} is active; {previous} dropped")
    return 0


def _left_behind(in_place: bool, switched: bool, status: int, namespace: str, previous: str) -> str:
    """What a reindex that stopped (status: its exit status) leaves: which version the site reads, what to do."""
    if in_place:
        return (f"{namespace} is active and partial ({previous} was dropped before the replay): run "
                "`dataget reindex --in-place` again once the cause is mended")
    if switched:
        # Before the switch the partial version is dropped (in run), so its memory is free again.
        return (f"{namespace} is active but may lack updates the live worker wrote only to {previous} during the "
                f"reindex; {previous} is kept: run `dataget reindex` again once Redis has room")
    full = " (an index that fits in Redis only once rebuilds with `dataget reindex --in-place`)"
    return f"{namespace} is dropped; the site still uses the previous version{full if status == INDEX_FULL else ''}"
