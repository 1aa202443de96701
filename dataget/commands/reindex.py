"""`dataget reindex`: replay every entity topic into a new index version and switch the site to it.

Steps: a new namespace -> workers for it under a fresh consumer group (reads every topic from the start)
-> wait until it caught up -> switch the active version (one Redis SET: queries never see a half-built
index) -> wait again, so what the live worker put only into the old version before the switch is in the new
one too -> stop that worker, drop the old version and the replay's consumer group.
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

from dataget.commands.worker import STOP_PREFIX, check_index_redis
from runtime.lag import group_lag, wait_for_lag_zero
from runtime.progress import progress
from runtime.settings import Settings, settings_env
from runtime.topic_admin import ensure_topics
from schemas.topics import ENTITIES, replay_group_id
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.workers < 1:
        print("dataget reindex: --workers must be at least 1", file=sys.stderr)
        return 2
    refused = check_index_redis(settings, "reindex")
    if refused is not None:
        return refused
    ensure_topics(settings)
    namespace = asyncio.run(_redis_call(settings, new_index_namespace, settings.namespace))
    group = replay_group_id(settings.namespace, namespace)
    topics = [settings.topics.entity(e) for e in ENTITIES]
    dataget = str(Path(sys.executable).with_name("dataget"))
    log_file = Path(settings.stack_dir) / "logs" / f"reindex-{namespace.replace(':', '-')}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        workers = [subprocess.Popen([dataget, "worker", "--namespace", namespace],
                                    env={**os.environ, **settings_env(settings)}, stdout=out, stderr=subprocess.STDOUT)
                   for _ in range(args.workers)]
    switched = False
    try:
        _wait(settings, group, topics, args.timeout, f"reindex into {namespace}", workers, log_file)
        replicas = len(settings.redis_replica_urls)
        previous, confirmed = asyncio.run(_redis_call(settings, activate_confirmed, settings.namespace, namespace,
                                                      replicas, REPLICA_WAIT_MS))
        switched = True
        if confirmed < replicas:
            print(f"dataget reindex: {confirmed} of {replicas} read replicas had the switch within "
                  f"{REPLICA_WAIT_MS // 1000} s; the others answer from {previous} until they catch up",
                  file=sys.stderr)
        _wait(settings, group, topics, args.timeout, "catching up after the switch", workers, log_file)
    except TimeoutError as exc:
        print(f"dataget reindex: {exc}; the site still uses the previous version", file=sys.stderr)
        return 1
    except WorkerStopped as exc:
        # Before the switch the partial version is dropped (below), so its memory is free again.
        state = (f"{namespace} is active but may lack updates the live worker wrote only to {previous} during the "
                 f"reindex; {previous} is kept: run `dataget reindex` again once Redis has room" if switched
                 else f"{namespace} is dropped; the site still uses the previous version")
        print(f"dataget reindex: {exc}; {state}", file=sys.stderr)
        return exc.status
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
        if not switched:
            asyncio.run(_redis_call(settings, _drop, namespace))
    asyncio.run(_redis_call(settings, _drop, previous))
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.delete_groups([group])
    finally:
        admin.close()
    print(f"index version {namespace} is active; {previous} dropped")
    return 0
