"""`dataget status`: topics, consumer-group lag and the active index version with its counts."""

from __future__ import annotations

import argparse
import asyncio

from redis.asyncio import Redis

from dataget.lag import group_lag, indexer_group_id
from dataget.settings import Settings
from dataget.topics import ENTITIES
from sinks.facet_index import FacetIndex
from sinks.index_versions import active_index_namespace


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("status", help="topic offsets, consumer lag, active index version and counts")
    parser.set_defaults(func=run)


async def index_status(settings: Settings) -> tuple[str, dict]:
    redis = Redis.from_url(settings.redis_url)
    try:
        namespace = await active_index_namespace(redis, settings.namespace)
        return namespace, await FacetIndex(redis, namespace).stats()
    finally:
        await redis.aclose()


def run(args: argparse.Namespace, settings: Settings) -> int:
    topics = [settings.topics.entity(e) for e in ENTITIES]
    groups = {"indexer": indexer_group_id(settings.namespace)}
    print(f"{'topic':32} {'group':24} {'end':>12} {'committed':>12} {'lag':>10}")
    for role, group in groups.items():
        for row in group_lag(settings, group, topics):
            print(f"{row.topic:32} {role + ' ' + group:24} {row.end:12d} {row.committed:12d} {row.lag:10d}")
    namespace, stats = asyncio.run(index_status(settings))
    print(f"\nactive index version: {namespace}")
    for key, value in stats.items():
        print(f"  {key}: {value}")
    return 0
