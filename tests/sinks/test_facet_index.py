"""The facet index against the real Redis, checked against brute force over synthetic releases."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest
from facet_brute_force import COUNTRIES, FORMATS, STYLES, brute, random_query, synthetic_release, video
from index_docs import bucket_sets, is_doc_bucket, number_sets, release_docs
from redis.asyncio import Redis

from runtime.settings import Settings
from schemas.query import FACETS, FacetQuery
from sinks.facet_index import NARROW_RELEASES, FacetIndex
from sinks.facets import release_videos

pytestmark = pytest.mark.stack


@pytest.fixture(params=[NARROW_RELEASES, 0], ids=["docs-when-narrow", "ranks-always"])
async def index(request: pytest.FixtureRequest, redis_client: Redis, isolated_settings: Settings) -> FacetIndex:
    """Each test twice: narrow queries counted off docs (as served), and every query by the pass over the ranks."""
    return FacetIndex(redis_client, isolated_settings.namespace, narrow_releases=request.param)


HEX = "return (string.gsub(redis.call('GET', KEYS[1]), '.', function(c) return string.format('%02x', c:byte()) end))"


async def dump(redis_client: Redis, ns: str) -> dict[str, Any]:
    """Every index key and its content (caches and the generation left out)."""
    out: dict[str, Any] = {}
    async for key in redis_client.scan_iter(match=f"{ns}:*"):
        kind = await redis_client.type(key)
        if key == f"{ns}:gen" or key.startswith((f"{ns}:q:", f"{ns}:tmp:")):
            continue
        if kind == "set":
            out[key] = await redis_client.smembers(key)
        elif kind == "hash" and is_doc_bucket(key.removeprefix(f"{ns}:")):
            out[key] = await release_docs(redis_client, key)
        elif kind == "hash":
            out[key] = await redis_client.hgetall(key)
        elif kind == "zset":
            out[key] = await redis_client.zrange(key, 0, -1, withscores=True)
        elif kind == "roaringbm":
            out[key] = await redis_client.execute_command("RBM.MEMBERS", key)
        elif kind == "ownertail":
            out[key] = await redis_client.execute_command("RBM.TAILITEMS", key)
        else:  # u32 arrays are not UTF-8: compared as hex
            out[key] = await redis_client.eval(HEX, 1, key)
    return out


async def set_members(redis_client: Redis, ns: str) -> dict[str, set[int]]:
    """Every number set of the index (name after the namespace) -> its numbers, wherever it lives."""
    out: dict[str, set[int]] = {}
    async for key in redis_client.scan_iter(match=f"{ns}:sb:*"):
        out.update({name: set(numbers) for name, numbers in (await bucket_sets(redis_client, key)).items()
                    if numbers != "own key"})
    for name, where in (await number_sets(redis_client, ns)).items():
        if where == "set":
            out[name] = {int(n) for n in await redis_client.smembers(f"{ns}:{name}")}
        elif where == "roaringbm":
            out[name] = set(await redis_client.execute_command("RBM.MEMBERS", f"{ns}:{name}"))
    return out


async def assert_any_rank_sets_are_rank_unions(redis_client: Redis, ns: str) -> None:
    """k:{kind}:a:{f}:{v} holds exactly the items of the value's rank sets (the tail's included), for kinds v, m, x
    and the facets filed under any rank."""
    filed = {tuple(name.split(":", 4)[1:]): numbers for name, numbers in (await set_members(redis_client, ns)).items()
             if name.startswith("k:")}
    unions: dict[str, set[int]] = defaultdict(set)
    for (kind, rank, facet, value), numbers in filed.items():
        if kind in ("v", "m", "x") and rank != "a" and facet in ("*", "genre", "decade", "format", "country"):
            unions[f"k:{kind}:a:{facet}:{value}"] |= numbers
    any_rank = {f"k:{kind}:a:{facet}:{value}": numbers for (kind, rank, facet, value), numbers in filed.items()
                if rank == "a"}
    assert any_rank and any_rank == {name: numbers for name, numbers in unions.items() if numbers}


async def check_queries(index: FacetIndex, releases: dict, masters: dict, rng: random.Random, n: int) -> None:
    for i in range(n):
        q = random_query(rng, unique="master" if i % 4 == 0 else None)
        expected_r, expected_v, owners = brute(releases, masters, q)
        result = await index.query(q)
        assert (result.releases, result.videos) == (expected_r, len(expected_v)), q
        assert len(result.sample) == min(q.limit, len(expected_v))
        assert len({s.video_id for s in result.sample}) == len(result.sample)
        for s in result.sample:
            assert s.release_id in owners[s.video_id], (q, s)


async def test_counts_and_samples_match_brute_force(index):
    rng = random.Random(42)
    releases = {rid: synthetic_release(rng, rid) for rid in range(1, 401)}
    masters = {m: {"id": m, "videos": [video(f"mst{m:08d}"), video("vid00000001")]} for m in (1, 2, 3)}
    await index.apply_releases(list(releases.items()))
    await index.apply_masters(list(masters.items()))
    await check_queries(index, releases, masters, rng, 150)
    stats = await index.stats()
    indexed = [r for r in releases.values() if release_videos(r)]
    assert stats["releases"] == len(indexed)
    assert stats["videos"] == len({v for r in indexed for v, _ in release_videos(r)})
    assert stats["facet_values"]["genre"] == len({g for r in indexed for g in r["genres"]})

    # Updates move releases between sets, tombstones and video-less releases leave, masters change.
    changes: list[tuple[int, dict | None]] = []
    for rid in rng.sample(sorted(releases), 150):
        if rng.random() < 0.3:
            releases.pop(rid)
            changes.append((rid, None))
        else:
            releases[rid] = synthetic_release(rng, rid)
            changes.append((rid, releases[rid]))
    await index.apply_releases(changes)
    masters[2] = {"id": 2, "videos": [video("mst00000009")]}
    masters.pop(3)
    await index.apply_masters([(2, masters[2]), (3, None)])
    await check_queries(index, releases, masters, rng, 150)
    await assert_any_rank_sets_are_rank_unions(index._redis, index._ns)


async def test_any_rank_sets_follow_changes_within_one_call(index):
    """One call that files and unfiles the same items (a release indexed and removed again, others moved between
    values) leaves each any-rank set the union of its value's rank sets."""
    a = {"genres": ["Rock"], "country": "UK", "videos": [video("vid00000001"), video("vid00000002")]}
    b = {"genres": ["Jazz"], "country": "UK", "videos": [video("vid00000001")]}
    await index.apply_releases([(1, a), (2, b)])
    await index.apply_releases([(3, a), (3, None), (2, {**b, "genres": ["Rock"]}), (1, {**a, "country": "US"})])
    await assert_any_rank_sets_are_rank_unions(index._redis, index._ns)
    counts = {}
    for facets in ({"genre": ("Jazz",)}, {"genre": ("Rock",)}, {"country": ("UK",)}, {"country": ("US",)}):
        result = await index.query(FacetQuery(facets))
        counts[next(iter(facets.values()))[0]] = (result.releases, result.videos)
    assert counts == {"Jazz": (0, 0), "Rock": (2, 2), "UK": (1, 1), "US": (1, 2)}


async def test_a_famous_videos_matching_owner_is_found_deep_in_its_tail(index):
    """A video of 800 releases (its tail a hash table, read in SSCAN rounds): the sample names the one match."""
    releases = {rid: {"id": rid, "genres": ["Rock"], "country": "UK", "videos": [video("vid00000001")]}
                for rid in range(1, 801)}
    releases[555] = {**releases[555], "country": "Iceland"}
    await index.apply_releases(list(releases.items()))
    result = await index.query(FacetQuery({"genre": ("Rock",), "country": ("Iceland",)}, limit=5))
    assert (result.releases, result.videos) == (1, 1)
    assert [(s.video_id, s.release_id) for s in result.sample] == [("vid00000001", 555)]


async def test_roaring_bitmaps_and_sets_mixed(index):
    """Enough releases that big values and videos of the first owner ranks are roaring bitmaps, small ones stay
    sets."""
    rng = random.Random(5)
    releases = {rid: synthetic_release(rng, rid, videos=3000) for rid in range(1, 4001)}
    masters = {m: {"id": m, "videos": [video(f"mst{m:08d}"), video("vid00000002")]} for m in (1, 4)}
    await index.apply_releases(list(releases.items()))
    await index.apply_masters(list(masters.items()))
    filed = {(name.split(":")[1], where) for name, where in (await number_sets(index._redis, index._ns)).items()
             if name.startswith("k:")}
    assert {("r", "roaringbm"), ("r", "set"), ("v", "roaringbm"), ("v", "set"), ("m", "bucket"),
            ("x", "bucket")} <= filed
    await check_queries(index, releases, masters, rng, 80)
    # Packed, as the sets are after a bulk build (and when Redis loads them): the same answers, and writes unpack.
    packable = [key async for key in index._redis.scan_iter(match=f"{index._ns}:*", _type="roaringbm")]
    assert await index._redis.execute_command("RBM.PACK", *packable) == len(packable)
    await check_queries(index, releases, masters, rng, 80)
    changes = [(rid, None if rng.random() < 0.5 else synthetic_release(rng, rid, videos=3000))
               for rid in rng.sample(sorted(releases), 1500)]
    await index.apply_releases(changes)
    releases.update({rid: rec for rid, rec in changes if rec})
    for rid, rec in changes:
        if rec is None:
            releases.pop(rid)
    await check_queries(index, releases, masters, rng, 80)


async def test_items_with_more_owners_than_ranks_kept(index):
    """Videos and masters of hundreds of releases: owners past TAIL_RANK are filed per value, queries stay exact."""
    rng = random.Random(23)
    releases = {rid: synthetic_release(rng, rid, videos=8) for rid in range(1, 601)}  # ~110 owners per video
    masters = {m: {"id": m, "videos": [video(f"mst{m:08d}")]} for m in (1, 2)}
    await index.apply_releases(list(releases.items()))
    await index.apply_masters(list(masters.items()))
    assert [name for name in await number_sets(index._redis, index._ns) if name.startswith("k:v:t:")]
    await check_queries(index, releases, masters, rng, 100)
    # Removals free low ranks that later owners take; changed values move tail owners between values.
    changes = [(rid, None if rng.random() < 0.4 else synthetic_release(rng, rid, videos=8))
               for rid in rng.sample(sorted(releases), 300)]
    await index.apply_releases(changes)
    for rid, rec in changes:
        if rec is None:
            releases.pop(rid)
        else:
            releases[rid] = rec
    await check_queries(index, releases, masters, rng, 100)
    await assert_any_rank_sets_are_rank_unions(index._redis, index._ns)
    await index.apply_releases([(rid, None) for rid in releases])
    await index.apply_masters([(m, None) for m in masters])
    left = [key async for key in index._redis.scan_iter(f"{index._ns}:*")]
    assert [key for key in left if any(part in key for part in (":k:", ":sb:", ":tc:", ":ot:", ":ti:", ":tr:"))] == []


async def test_wide_or_and_many_combinations(index):
    """More ORed values than are kept apart, and AND queries with more value combinations than are expanded."""
    rng = random.Random(11)
    releases = {rid: synthetic_release(rng, rid) for rid in range(1, 301)}
    await index.apply_releases(list(releases.items()))
    queries = [
        FacetQuery({"style": tuple(STYLES)}, seed=1),
        FacetQuery({"style": tuple(STYLES)}, unique="master"),
        FacetQuery({"style": tuple(STYLES[:3]), "country": tuple(COUNTRIES[:3]), "format": tuple(FORMATS)}, seed=2),
        FacetQuery({"genre": ("Rock", "Jazz"), "country": ("UK", "US"), "artist": ("Björk", "Various")}),
    ]
    for q in queries:
        expected_r, expected_v, owners = brute(releases, {}, q)
        result = await index.query(q)
        assert (result.releases, result.videos) == (expected_r, len(expected_v)), q
        assert all(s.release_id in owners[s.video_id] for s in result.sample)


async def test_update_moves_and_tombstone_removes(index):
    first = {"genres": ["Rock"], "released": "1975", "artists": [{"name": "Björk"}], "videos": [video("aaaaaaaaaaa")]}
    await index.apply_releases([(1, first)])
    assert (await index.query(FacetQuery({"genre": ("Rock",)}))).releases == 1
    moved = {**first, "genres": ["Jazz"]}
    await index.apply_releases([(1, moved)])
    assert (await index.query(FacetQuery({"genre": ("Rock",)}))).releases == 0
    jazz = await index.query(FacetQuery({"genre": ("Jazz",)}))
    assert (jazz.releases, jazz.videos, jazz.sample[0].video_id) == (1, 1, "aaaaaaaaaaa")
    assert [v.value for v in await index.facet_values("genre")] == ["Jazz"]

    await index.apply_releases([(1, {**moved, "videos": []})])  # lost its videos: removed everywhere
    assert (await index.query(FacetQuery())).releases == 0
    await index.apply_releases([(1, moved), (1, None)])
    assert await index.facet_values("genre") == []
    assert await index.stats() == {"releases": 0, "videos": 0, "facet_values": dict.fromkeys(FACETS, 0)}


async def test_replay_and_half_applied_batch_converge(index, redis_client, isolated_settings):
    ns = isolated_settings.namespace
    rng = random.Random(7)
    batch = [(rid, synthetic_release(rng, rid)) for rid in range(1, 81)]
    await index.apply_releases(batch[:30])  # a crash after 30 releases
    await index.apply_releases(batch)  # the batch is re-delivered
    state = await dump(redis_client, ns)
    gen = await redis_client.get(f"{ns}:gen")
    await index.apply_releases(batch)
    assert await dump(redis_client, ns) == state
    assert await redis_client.get(f"{ns}:gen") == gen

    other = FacetIndex(redis_client, ns + "b")
    try:
        await other.apply_releases(batch)
        assert await dump(redis_client, ns + "b") == {k.replace(ns, ns + "b", 1): v for k, v in state.items()}
    finally:
        await other.drop()

    # Removing everything leaves no index keys behind but its format, counters and the number-indexed arrays (all
    # owners 0).
    await index.apply_releases([(rid, None) for rid, _ in batch])
    left = {key.removeprefix(f"{ns}:") for key in await dump(redis_client, ns)}
    assert {key.split(":")[0] for key in left} == {"format", "seq", "count", "layers", "rid", "o0", "o1"}
    arrays = [key for key in left if key.startswith(("o0:", "o1:"))]
    assert {byte for key in arrays for byte in await redis_client.get(f"{ns}:{key}")} == {"\x00"}
    assert {await redis_client.get(f"{ns}:{key}") for key in left if key.startswith("count:")} == {"0"}


async def test_unique_master(index):
    await index.apply_releases([
        (1, {"genres": ["Rock"], "master_id": 10, "videos": [video("aaaaaaaaaaa")]}),
        (2, {"genres": ["Rock"], "master_id": 10, "videos": [video("aaaaaaaaaaa"), video("bbbbbbbbbbb")]}),
        (3, {"genres": ["Rock"], "master_id": None, "videos": [video("ccccccccccc")]}),
        (4, {"genres": ["Jazz"], "master_id": 11, "videos": [video("ddddddddddd")]}),
    ])
    await index.apply_masters([(10, {"id": 10, "videos": [video("eeeeeeeeeee", "master video")]})])
    plain = await index.query(FacetQuery({"genre": ("Rock",)}))
    assert (plain.releases, plain.videos) == (3, 3)
    unique = await index.query(FacetQuery({"genre": ("Rock",)}, unique="master"))
    assert (unique.releases, unique.videos) == (2, 4)
    master_video = next(s for s in unique.sample if s.video_id == "eeeeeeeeeee")
    assert (master_video.release_id, master_video.title) == (1, "master video")


async def test_seeded_sample_is_reproducible(index, redis_client):
    """The first answer draws from the sets it computed, a repeat from the sets kept for it (a small result's)."""
    rng = random.Random(3)
    await index.apply_releases([(rid, synthetic_release(rng, rid)) for rid in range(1, 301)])
    for n, facets in enumerate(({}, {"genre": ("Rock", "Jazz")}, {"genre": ("Rock",), "format": ("Vinyl",)})):
        q = FacetQuery(facets=facets, limit=10, seed=1234)
        first = await index.query(q)
        assert len([key async for key in redis_client.scan_iter(match=f"{index._ns}:tmp:*:vid")]) == n + 1
        assert (await index.query(q)).sample == first.sample
        fresh = FacetIndex(index._redis, index._ns)  # another process, same index
        assert (await fresh.query(q)).sample == first.sample
        others = {tuple(s.video_id for s in (await index.query(FacetQuery(facets, 10, seed=s))).sample)
                  for s in range(5)}
        assert len(others) > 1


async def test_dense_seeded_sampling(index):
    """Above 5000 videos the seeded sample draws video numbers (rejection sampling)."""
    releases = [(rid, {"genres": ["Rock" if rid % 2 else "Pop"], "videos": [video(f"v{rid:010d}")]})
                for rid in range(1, 12001)]
    for start in range(0, len(releases), 2000):
        await index.apply_releases(releases[start:start + 2000])
    q = FacetQuery({"genre": ("Rock",)}, limit=50, seed=99)
    result = await index.query(q)
    assert (result.releases, result.videos, len(result.sample)) == (6000, 6000, 50)
    assert all(s.release_id % 2 == 1 and s.video_id == f"v{s.release_id:010d}" for s in result.sample)
    assert len({s.video_id for s in result.sample}) == 50
    assert (await index.query(q)).sample == result.sample


async def test_a_sample_is_uniform_over_the_result_whatever_its_gaps(index):
    """A result of 600 consecutive video numbers and 600 spread one in ten: both halves are drawn alike (drawing
    numbers and taking the next member would pick the spread ones ~9 times in 10)."""
    dense = range(1, 601)
    spread = range(610, 6601, 10)
    releases = [(rid, {"genres": ["Rock" if rid in dense or rid % 10 == 0 and rid in spread else "Pop"],
                       "videos": [video(f"v{rid:010d}")]}) for rid in range(1, 6601)]
    for start in range(0, len(releases), 2200):
        await index.apply_releases(releases[start:start + 2200])
    drawn = []
    for seed in range(20):
        result = await index.query(FacetQuery({"genre": ("Rock",)}, limit=50, seed=seed))
        assert result.videos == 1200
        drawn += [s.release_id for s in result.sample]
    assert len(drawn) == 1000 and all(rid in dense or rid in spread for rid in drawn)
    assert 0.4 < sum(rid in spread for rid in drawn) / len(drawn) < 0.6


async def test_facet_values_prefix_accents_and_order(index):
    names = ["Björk"] * 3 + ["Bjorn Again"] * 2 + ["BJ Thomas", "Motörhead", "Sigur Rós"]
    await index.apply_releases(
        [(rid, {"artists": [{"name": n}], "videos": [video(f"v{rid:010d}")]}) for rid, n in enumerate(names, 1)]
    )
    assert [(v.value, v.releases) for v in await index.facet_values("artist", "bjo")] == [
        ("Björk", 3), ("Bjorn Again", 2)
    ]
    assert [v.value for v in await index.facet_values("artist", "BJÖRK")] == ["Björk"]
    assert [v.value for v in await index.facet_values("artist", "mot")] == ["Motörhead"]
    assert [v.value for v in await index.facet_values("artist", "sigur ros")] == ["Sigur Rós"]
    assert [v.value for v in await index.facet_values("artist", "", limit=2)] == ["Björk", "Bjorn Again"]
    assert [v.value for v in await index.facet_values("artist", "b", limit=1)] == ["Björk"]
    assert await index.facet_values("artist", "zzz") == []


async def test_unknown_facet_and_mode_are_rejected(index):
    with pytest.raises(ValueError, match="unknown facet 'colour'"):
        await index.query(FacetQuery({"colour": ("red",)}))
    with pytest.raises(ValueError, match="unknown facet"):
        await index.facet_values("colour")
    with pytest.raises(ValueError, match="unknown unique mode"):
        await index.query(FacetQuery(unique="label"))


async def test_prefix_ranks_thousands_of_matches(index):
    releases = [(rid, {"artists": [{"name": f"Artist {rid % 9000}"}], "videos": [video(f"v{rid:010d}")]})
                for rid in range(1, 9004)]
    for start in range(0, len(releases), 3000):
        await index.apply_releases(releases[start:start + 3000])
    top = await index.facet_values("artist", "ART", limit=4)
    assert [(v.value, v.releases) for v in top] == [
        ("Artist 1", 2), ("Artist 2", 2), ("Artist 3", 2), ("Artist 0", 1)
    ]
