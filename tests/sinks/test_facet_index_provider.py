"""The site's index provider: one FacetIndex per namespace, yet an index switch shows on the next request."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from sinks.index_versions import activate, new_index_namespace
from web.app import redis_index_provider

pytestmark = pytest.mark.stack


async def test_provider_reuses_index_and_follows_switch(isolated_settings):
    redis = Redis.from_url(isolated_settings.redis_url)
    base = isolated_settings.namespace
    try:
        provider = redis_index_provider(redis, base)
        first = await provider()
        assert await provider() is first
        assert first._ns == f"{base}:v0"
        namespace = await new_index_namespace(redis, base)
        await activate(redis, base, namespace)
        switched = await provider()
        assert switched._ns == namespace
        assert await provider() is switched
    finally:
        await redis.delete(f"{base}:active", f"{base}:version_seq")
        await redis.aclose()
