"""The site's index provider: one object for every request, yet an index switch shows on the next query."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.index_versions import activate, new_index_namespace, version_namespace
from web.app import redis_index_provider

pytestmark = pytest.mark.stack


async def test_provider_queries_the_active_version(isolated_settings):
    redis = Redis.from_url(isolated_settings.redis_url)
    base = isolated_settings.namespace
    release = {"genres": ["Rock"], "videos": [{"src": "", "youtube_id": "aaaaaaaaaaa", "title": "t"}]}
    namespace = await new_index_namespace(redis, base)
    try:
        provider = redis_index_provider(redis, base)
        index = await provider()
        assert await provider() is index
        await FacetIndex(redis, version_namespace(base, 0)).apply_releases([(1, release)])
        await FacetIndex(redis, namespace).apply_releases([(1, release), (2, release)])
        rock = FacetQuery({"genre": ("Rock",)})
        assert (await index.query(rock)).releases == 1  # version 0 while none is active
        await activate(redis, base, namespace)
        assert (await index.query(rock)).releases == 2
        assert [v.releases for v in await index.facet_values("genre")] == [2]
    finally:
        await redis.aclose()
