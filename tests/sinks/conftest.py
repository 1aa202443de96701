"""Fixtures of the sink tests on the real Redis."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from runtime.settings import Settings
from sinks.facet_index import FacetIndex
from tests.index_memory import dedicated_redis


@pytest.fixture
async def redis_client(isolated_settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(isolated_settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def index(redis_client: Redis, isolated_settings: Settings) -> FacetIndex:
    return FacetIndex(redis_client, isolated_settings.namespace)


@pytest.fixture
async def rank_index(redis_client: Redis, isolated_settings: Settings) -> FacetIndex:
    """The index whose queries always pass over the owner ranks, however few releases match."""
    return FacetIndex(redis_client, isolated_settings.namespace, narrow_releases=0)


@pytest.fixture
async def small_redis(tmp_path: Path) -> AsyncIterator[Redis]:
    """A Redis of the test's own (8 MB maxmemory, the stack's options): for what changes the server's settings."""
    with dedicated_redis(tmp_path) as url:
        redis = Redis.from_url(url)
        try:
            yield redis
        finally:
            await redis.aclose()
