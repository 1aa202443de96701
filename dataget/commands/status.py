"""`dataget status`: topics, consumer-group lag and the active index version with its counts."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from runtime.lag import group_lag
from runtime.settings import Settings, redis_address
from runtime.unreachable import UNREACHABLE, unreachable_message
from schemas.topics import ENTITIES, indexer_group_id
from sinks.facet_index import FacetIndex
from sinks.index_versions import active_index_namespace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="topic offsets, consumer lag, active index version and counts")
    parser.set_defaults(func=run)


async def index_status(settings: Settings) -> tuple[str, dict, dict[str, str]]:
    """The active index version, its counts and each read replica's state, over one connection to the primary."""
    redis = Redis.from_url(settings.redis_url)
    try:
        namespace = await active_index_namespace(redis, settings.namespace)
        stats = await FacetIndex(redis, namespace).stats()
        return namespace, stats, await replica_states(redis, settings.redis_replica_urls)
    finally:
        await redis.aclose()


def replica_state(primary_offset: int, info: dict | None) -> str:
    """One replica's line, from its INFO replication (None: it did not answer)."""
    if info is None:
        return "not answering"
    if info.get("master_link_status") != "up":
        return "syncing" if info.get("master_sync_in_progress") else "link to the primary down"
    behind = max(0, primary_offset - int(info.get("slave_repl_offset", 0)))
    return "in sync" if behind == 0 else f"in sync, {behind} bytes behind"


async def replica_states(primary: Redis, replica_urls: Sequence[str]) -> dict[str, str]:
    """Each read replica of primary (DATAGET_REDIS_REPLICA_URLS) by host:port, as replica_state tells it."""
    if not replica_urls:
        return {}
    offset = int((await primary.info("replication")).get("master_repl_offset", 0))
    states = {}
    for url in replica_urls:
        replica = Redis.from_url(url, socket_timeout=2)
        try:
            info = await replica.info("replication")
        except RedisError:
            info = None
        finally:
            await replica.aclose()
        states[redis_address(url)] = replica_state(offset, info)
    return states


def print_lag(settings: Settings) -> None:
    topics = [settings.topics.entity(e) for e in ENTITIES]
    groups = {"indexer": indexer_group_id(settings.namespace)}
    rows = [(role, group, row) for role, group in groups.items() for row in group_lag(settings, group, topics)]
    print(f"{'topic':32} {'group':24} {'end':>12} {'committed':>12} {'lag':>10}")
    for role, group, row in rows:
        print(f"{row.topic:32} {role + ' ' + group:24} {row.end:12d} {row.committed:12d} {row.lag:10d}")


def print_index(settings: Settings) -> None:
    namespace, stats, replicas = asyncio.run(index_status(settings))
    print(f"active index version: {namespace}")
    for key, value in stats.items():
        print(f"  {key}: {value}")
    for name, state in replicas.items():
        print(f"index replica {name}: {state}")


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Each part reports on its own: with Kafka down, the index's counts are still worth seeing, and the other way.
    status = 0
    for n, part in enumerate((print_lag, print_index)):
        if n:
            print()
        try:
            part(settings)
        except Exception as exc:
            message = unreachable_message(exc, settings)
            if message is None:
                raise
            print(message)
            status = UNREACHABLE
    return status
