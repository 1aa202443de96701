"""What the facet index leaves out of Redis, and that an index built before, which kept it, still works."""

from __future__ import annotations

import pytest
from facet_brute_force import video

from schemas.query import FacetQuery

pytestmark = pytest.mark.stack


async def hash_fields(redis_client, pattern: str) -> dict[str, str]:
    return {field: value async for key in redis_client.scan_iter(match=pattern)
            for field, value in (await redis_client.hgetall(key)).items()}


async def test_videos_keep_their_ids_only_and_old_values_with_titles_still_read(index, redis_client):
    ns = index._ns
    await index.apply_releases([(1, {"genres": ["Rock"], "videos": [video("aaaaaaaaaaa", "A song"),
                                                                     video("bbbbbbbbbbb", "B song")]})])
    assert await hash_fields(redis_client, f"{ns}:video:*") == {"1": "aaaaaaaaaaa", "2": "bbbbbbbbbbb"}
    sample = (await index.query(FacetQuery({"genre": ("Rock",)}, seed=1))).sample
    assert sorted((v.video_id, v.title, v.release_id) for v in sample) == [
        ("aaaaaaaaaaa", "", 1), ("bbbbbbbbbbb", "", 1)]

    # An index built before keeps "id<TAB>title": queries split it, and removing the video forgets its id.
    await redis_client.hset(f"{ns}:video:0", "1", "aaaaaaaaaaa\tA song")
    await redis_client.incr(f"{ns}:gen")
    sample = (await index.query(FacetQuery({"genre": ("Rock",)}, seed=1))).sample
    assert sorted((v.video_id, v.title) for v in sample) == [("aaaaaaaaaaa", "A song"), ("bbbbbbbbbbb", "")]
    await index.apply_releases([(1, {"genres": ["Rock"], "videos": [video("bbbbbbbbbbb", "B song")]})])
    assert await hash_fields(redis_client, f"{ns}:video:*") == {"2": "bbbbbbbbbbb"}
    assert await hash_fields(redis_client, f"{ns}:vid:*") == {"bbbbbbbbbbb": "2"}

