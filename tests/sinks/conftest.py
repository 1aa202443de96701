"""Fixtures of the sink tests on the real Redis."""

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from runtime.settings import Settings


@pytest.fixture
async def redis_client(isolated_settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(isolated_settings.redis_url, decode_responses=True)
    yield client
    await client.aclose()
