"""The facet index's counts (releases, videos, releases per genre): brute force from a dump, and as the live index
has them, for the end-to-end tests that compare the two after faults."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from redis.asyncio import Redis

from producers.records import iter_records
from runtime.settings import Settings
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.facets import release_facets, release_videos
from sinks.index_versions import active_index_namespace

IndexCounts = tuple[int, int, Counter[str]]


def expected_index(path: Path) -> IndexCounts:
    """What indexing the releases dump at path must give: releases with videos, distinct videos, genres."""
    releases, videos, genres = 0, set(), Counter[str]()
    for item in iter_records(path):
        found = release_videos(item.record)
        if found:
            releases += 1
            videos.update(v for v, _ in found)
            genres.update(release_facets(item.record)["genre"])
    return releases, len(videos), genres


async def index_state(settings: Settings) -> IndexCounts:
    """The counts of settings' active index version."""
    redis = Redis.from_url(settings.redis_url)
    try:
        index = FacetIndex(redis, await active_index_namespace(redis, settings.namespace))
        result = await index.query(FacetQuery(limit=1))
        genres = Counter({v.value: v.releases for v in await index.facet_values("genre", limit=1000)})
        return result.releases, result.videos, genres
    finally:
        await redis.aclose()
