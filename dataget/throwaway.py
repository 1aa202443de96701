"""Removing all a throwaway namespace left on the servers: what tests and benchmarks run under is theirs alone
(topic prefix, Mongo databases, Redis key namespace, state directory), and a long-lived local stack should not pile
it up."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

from pymongo import MongoClient
from redis.asyncio import Redis

from runtime.settings import Settings
from runtime.topic_admin import drop_topics
from schemas.topics import Topics

# Keys per UNLINK call while sweeping a namespace.
SWEEP_BATCH = 1000


def throwaway_settings(base: Settings, state_root: Path, prefix: str = "t") -> Settings:
    """base with a topic prefix, Mongo databases, Redis namespace and state directory (under state_root) of their
    own, named prefix + a random tag."""
    tag = f"{prefix}{uuid.uuid4().hex[:10]}"
    return base.with_(topics=Topics(prefix=f"{tag}."), mongo_db=tag, namespace=tag, state_dir=state_root / tag)


def drop_throwaway(settings: Settings) -> None:
    """Drop the settings' topics (and the index workers' internal ones), Mongo databases, Redis keys and state
    directory."""
    defaults = Settings()
    if settings.namespace == defaults.namespace or settings.mongo_db == defaults.mongo_db:
        raise ValueError("refusing to drop the default namespace or database: they are not throwaway")
    drop_topics(settings)
    mongo: MongoClient[dict[str, object]] = MongoClient(settings.mongo_url)
    try:
        for name in (settings.mongo_db, settings.app_mongo_db):
            mongo.drop_database(name)
    finally:
        mongo.close()
    asyncio.run(sweep_namespace(settings.redis_url, settings.namespace))
    shutil.rmtree(settings.state_dir, ignore_errors=True)


async def sweep_namespace(redis_url: str, namespace: str) -> None:
    """Unlink every key under namespace (every index version of it, caches and all)."""
    redis = Redis.from_url(redis_url)
    try:
        batch: list[bytes] = []
        async for key in redis.scan_iter(f"{namespace}:*", count=SWEEP_BATCH):
            batch.append(key)
            if len(batch) == SWEEP_BATCH:
                await redis.unlink(*batch)
                batch = []
        if batch:
            await redis.unlink(*batch)
    finally:
        await redis.aclose()
