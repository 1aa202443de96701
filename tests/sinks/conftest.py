"""Fixtures of the sink tests on the real Redis."""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from runtime.settings import Settings
from sinks.facet_index import FacetIndex


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
