"""What the facet index leaves out of Redis, and that an index built before, which kept it, still works."""

from __future__ import annotations

import pytest
from facet_brute_force import video

pytestmark = pytest.mark.stack


async def hash_fields(redis_client, pattern: str) -> dict[str, str]:
    return {field: value async for key in redis_client.scan_iter(match=pattern)
            for field, value in (await redis_client.hgetall(key)).items()}


async def test_fold_keeps_only_values_whose_folded_form_is_not_their_lower_case(index, redis_client):
    ns = index._ns
    await index.apply_releases([
        (1, {"genres": ["Rock"], "artists": [{"name": "Björk"}], "videos": [video("aaaaaaaaaaa")]}),
        (2, {"genres": ["Rock"], "artists": [{"name": "Sugarcubes"}], "videos": [video("bbbbbbbbbbb")]}),
    ])
    assert await hash_fields(redis_client, f"{ns}:fold:*") == {"Björk": "bjork"}
    assert await redis_client.zrange(f"{ns}:lex:artist", 0, -1) == ["bjork\0Björk", "sugarcubes\0Sugarcubes"]
    assert [v.value for v in await index.facet_values("artist", "BJÖ")] == ["Björk"]
    # An index built before keeps every value's folded form: removing the value still finds it.
    await redis_client.hset(f"{ns}:fold:genre", "Rock", "rock")
    await index.apply_releases([(1, None), (2, None)])
    assert await hash_fields(redis_client, f"{ns}:fold:*") == {}
    for facet in ("artist", "genre"):
        assert await redis_client.zrange(f"{ns}:lex:{facet}", 0, -1) == []
        assert await redis_client.zrange(f"{ns}:cnt:{facet}", 0, -1) == []
