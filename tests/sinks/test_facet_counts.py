"""Counts of a facet's values within a selection of the other facets (FacetIndex.facet_counts), on the real Redis,
against brute force and against the query's counts."""

from __future__ import annotations

import random

import pytest
from facet_brute_force import brute, random_query, synthetic_release

from schemas.query import FACETS, FacetQuery
from sinks.facet_index import FacetIndex, facet_count_candidates, fold
from sinks.facets import release_facets, release_videos
from sinks.index_versions import ActiveIndex, activate, version_namespace

pytestmark = pytest.mark.stack


def others(q: FacetQuery, facet: str) -> FacetQuery:
    return FacetQuery(facets={f: v for f, v in q.facets.items() if f != facet})


def brute_counts(releases: dict[int, dict], within: FacetQuery, facet: str, prefix: str = "") -> dict[str, int]:
    """Every value of facet (starting with prefix) that some indexed release has -> releases with it in within."""
    values = {v for r in releases.values() if release_videos(r) for v in release_facets(r)[facet]}
    rest = others(within, facet).facets
    return {
        v: brute(releases, {}, FacetQuery(facets={**rest, facet: (v,)}))[0]
        for v in values
        if fold(v).startswith(fold(prefix))
    }


@pytest.fixture
async def loaded(redis_client, isolated_settings) -> tuple[FacetIndex, dict[int, dict]]:
    # 1,500 releases: the common values (genres, countries, labels) become roaring bitmaps, the rarer stay sets.
    rng = random.Random(7)
    releases = {rid: synthetic_release(rng, rid) for rid in range(1, 1501)}
    index = FacetIndex(redis_client, isolated_settings.namespace)
    await index.apply_releases(list(releases.items()))
    return index, releases


async def test_counts_equal_brute_force_and_queries(loaded, redis_client, isolated_settings):
    index, releases = loaded
    keys = redis_client.scan_iter(f"{isolated_settings.namespace}:k:r:0:*")
    kinds = {await redis_client.type(k) async for k in keys}
    assert kinds == {"set", "roaringbm"}  # both sets and roaring bitmaps are counted
    rng = random.Random(3)
    for _ in range(40):
        within = random_query(rng)
        facet = rng.choice(FACETS)
        expected = brute_counts(releases, within, facet)
        got = await index.facet_counts(facet, within, limit=100)
        # Fewer values than candidates: every value is counted, so the ranking is complete.
        assert len(expected) <= facet_count_candidates(100)
        assert {v.value: v.releases for v in got} == expected, (facet, within)
        counts = [v.releases for v in got]
        assert counts == sorted(counts, reverse=True)
    # A count is what the query of the selection plus that value gives.
    within = FacetQuery(facets={"genre": ("Rock", "Jazz"), "country": ("UK",)})
    for value in await index.facet_counts("format", within, limit=3):
        query = FacetQuery(facets={**within.facets, "format": (value.value,)})
        assert value.releases == (await index.query(query)).releases


async def test_big_and_small_selections(loaded):
    index, releases = loaded
    # Bitmaps in every facet: ANDed in C; one facet of small sets: probed member by member.
    big = FacetQuery(facets={"genre": ("Rock",), "country": ("UK", "US")})
    small = FacetQuery(facets={"genre": ("Rock",), "year": ("1979",), "artist": ("Björk",)})
    for within in (big, small):
        for facet in ("style", "label", "decade"):
            got = await index.facet_counts(facet, within, limit=100)
            assert {v.value: v.releases for v in got} == brute_counts(releases, within, facet)


async def test_prefix_limit_zero_counts_and_own_values(loaded):
    index, releases = loaded
    within = FacetQuery(facets={"artist": ("Björk",), "year": ("1979",)})
    expected = brute_counts(releases, within, "artist", prefix="BJO")
    got = await index.facet_counts("artist", within, prefix="BJO")
    # The facet's own values are left out of the selection: both Björk and Bjorn Again count.
    assert {v.value for v in got} == {"Björk", "Bjorn Again"}
    assert {v.value: v.releases for v in got} == expected
    assert [v.value for v in await index.facet_counts("artist", within, prefix="bjo", limit=1)] == [got[0].value]
    # A selection no release matches: every candidate counts 0, most releases overall first.
    none = await index.facet_counts("genre", FacetQuery(facets={"country": ("Nowhere",)}), limit=3)
    overall = await index.facet_values("genre", limit=3)
    assert [(v.value, v.releases) for v in none] == [(v.value, 0) for v in overall]
    # Without another facet the counts are those of the whole index.
    assert await index.facet_counts("genre", FacetQuery(facets={"genre": ("Rock",)})) == await index.facet_values(
        "genre")
    assert await index.facet_counts("genre", within, limit=0) == []
    with pytest.raises(ValueError):
        await index.facet_counts("colour", within)


async def test_temporary_keys_are_gone(loaded, redis_client, isolated_settings):
    index, _ = loaded
    await index.facet_counts("style", FacetQuery(facets={"genre": ("Rock", "Jazz"), "country": ("UK",)}))
    await index.facet_counts("style", FacetQuery(facets={"artist": ("Björk",)}))
    assert [k async for k in redis_client.scan_iter(f"{isolated_settings.namespace}:tmp:counts:*")] == []


async def test_generation_follows_writes_and_switches(redis_client, isolated_settings):
    base = isolated_settings.namespace
    active = ActiveIndex(redis_client, base)
    first = await active.generation()
    release = {"id": 1, "genres": ["Rock"], "videos": [{"youtube_id": "dQw4w9WgXcQ", "title": "t"}]}
    await active.apply_releases([(1, release)])
    written = await active.generation()
    assert written != first
    # A query names the generation that answered it.
    assert (await active.query(FacetQuery(facets={"genre": ("Rock",)}))).generation == written
    await active.apply_releases([(1, None), (1, None)])
    removed = await active.generation()
    assert removed != written
    await active.apply_releases([(1, None)])  # nothing changes
    assert await active.generation() == removed
    await activate(redis_client, base, version_namespace(base, 5))
    switched = await active.generation()
    assert switched not in (first, written, removed)
    assert (await active.query(FacetQuery(facets={"genre": ("Rock",)}))).generation == switched
    counted = await active.facet_counts("genre", FacetQuery(facets={"country": ("UK",)}))
    assert counted == []  # read from the (empty) active version
