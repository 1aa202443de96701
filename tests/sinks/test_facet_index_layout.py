"""What the facet index keeps in Redis (docs, video hashes, its format), and the indexes and servers it refuses."""

from __future__ import annotations

import pytest
from facet_brute_force import video
from index_docs import number_sets, release_docs

from schemas.query import FACETS, FacetQuery, IndexFormatError
from sinks.facet_index import IndexServerError, check_roaring_module, check_single_instance

pytestmark = pytest.mark.stack


async def test_an_index_of_the_older_per_rank_layout_is_refused(rank_index, redis_client):
    await rank_index.apply_releases([(1, {"styles": ["Punk"], "videos": [video("aaaaaaaaaaa")]})])
    # What an index built before the tail holds: ranks past TAIL_RANK filed like the others. (A style's items are
    # filed per rank only, so its query reads the ranks.)
    await redis_client.set(f"{rank_index._ns}:layers:v", 20)
    await redis_client.sadd(f"{rank_index._ns}:k:v:8:*:*", 1)
    with pytest.raises(IndexFormatError, match=r"^index .* rebuild it with `dataget reindex`$"):
        await rank_index.query(FacetQuery({"style": ("Punk",)}))


async def assert_refused(index, refused: str) -> None:
    """A query, facet counts and a write of an index of an older layout all raise IndexFormatError(refused)."""
    with pytest.raises(IndexFormatError, match=refused):
        await index.query(FacetQuery({"genre": ("Rock",)}))
    with pytest.raises(IndexFormatError, match=refused):
        await index.facet_counts("genre", FacetQuery({"country": ("UK",)}))
    with pytest.raises(IndexFormatError, match=refused):
        await index.apply_releases([(2, {"genres": ["Rock"], "videos": [video("bbbbbbbbbbb")]})])


async def test_an_index_of_plain_bitmaps_is_refused(index, redis_client):
    """An index whose big number sets are plain bitmaps (STRING keys) is refused by queries, counts and writes."""
    await index.apply_releases([(1, {"genres": ["Rock"], "country": "UK", "videos": [video("aaaaaaaaaaa")]})])
    ns = index._ns
    # What the older scripts kept: every release and the Rock releases as plain bitmaps.
    for key in (f"{ns}:k:r:0:*:*", f"{ns}:k:r:0:genre:Rock"):
        await redis_client.delete(key)
        await redis_client.setbit(key, 1, 1)
    await assert_refused(index, r"^index .* plain bitmaps?.*rebuild it with `dataget reindex`$")
    # A plain bitmap met among a query's keys is refused even where the every-release key is not one.
    await redis_client.delete(f"{ns}:k:r:0:*:*")
    await redis_client.sadd(f"{ns}:k:r:0:*:*", 1)
    with pytest.raises(IndexFormatError, match=r"^index .* holds .*k:r:0:genre:Rock as a string"):
        await index.query(FacetQuery({"genre": ("Rock",)}))


async def test_an_index_of_an_older_format_is_refused(index, redis_client):
    """An index holding releases without the format these scripts write (one built by older scripts: videos in two
    single hashes, docs in a STRING key each) is refused by queries, counts and writes; a new one gets the format."""
    await index.apply_releases([(1, None)])
    ns = index._ns
    assert await redis_client.get(f"{ns}:format") == "7"
    await index.apply_releases([(1, {"genres": ["Rock"], "country": "UK", "videos": [video("aaaaaaaaaaa")]})])
    await redis_client.delete(f"{ns}:format")
    refused = r"^index .* has format 1, an older layout than 7: rebuild it with `dataget reindex`$"
    await assert_refused(index, refused)
    with pytest.raises(IndexFormatError, match=refused):
        await index.apply_masters([(3, {"videos": [video("ccccccccccc")]})])
    # Format 2 kept a famous item's tail owners in a SET, which RBM.FIRSTIN cannot read; format 3 kept every number
    # set in a key of its own, and a query would take a small set moved to a bucket for empty; format 4 named the
    # tail's counts by facet name and kept a master's videos and releases in keys of their own; format 5 kept each
    # release's tail items in a SET of its own; format 6 filed no item under any rank.
    for older in ("2", "3", "4", "5", "6"):
        await redis_client.set(f"{ns}:format", older)
        await assert_refused(index, rf"^index .* has format {older}, an older layout than 7: rebuild it with "
                                    r"`dataget reindex`$")


async def test_video_hashes_stay_small(index, redis_client):
    """Videos' numbers and titles are spread over hashes of at most 128 numbers and over vid:* buckets, which a
    removed video leaves."""
    releases = {rid: {"genres": ["Rock"], "videos": [video(f"v{rid:010d}")]} for rid in range(1, 301)}
    await index.apply_releases(list(releases.items()))
    ns = index._ns
    titles = [key async for key in redis_client.scan_iter(match=f"{ns}:video:*")]
    assert sorted(titles) == [f"{ns}:video:{b}" for b in range(3)]
    assert [await redis_client.hlen(k) for k in sorted(titles)] == [127, 128, 45]
    ids = [key async for key in redis_client.scan_iter(match=f"{ns}:vid:*")]
    assert len(ids) > 250 and sum([await redis_client.hlen(k) for k in ids]) == 300
    await index.apply_releases([(rid, None) for rid in releases])
    assert [key async for key in redis_client.scan_iter(match=f"{ns}:vid*")] == []
    assert [key async for key in redis_client.scan_iter(match=f"{ns}:video*")] == []


# A doc as stored before facets were named by letters and items of rank 0 by their number: full names, the decade
# included, every item an [item, rank] pair, a kind without items an empty list.
OLDER_DOC = """
local names = {g = 'genre', s = 'style', y = 'year', c = 'country', l = 'label', a = 'artist', f = 'format'}
local doc = cmsgpack.unpack(redis.call('HGET', KEYS[1], ARGV[1]))
local f = {}
for letter, values in pairs(doc.f) do f[names[letter]] = values end
f.decade = {ARGV[2]}
doc.f = f
local items = {m = {}, x = {}}
for kind, list in pairs(doc.i) do
  items[kind] = {}
  for j, item in ipairs(list) do items[kind][j] = type(item) == 'table' and item or {item, 0} end
end
doc.i = items
return redis.call('HSET', KEYS[1], ARGV[1], cmsgpack.pack(doc))
"""


async def test_docs_name_facets_by_letters_and_read_older_docs_the_same(index, redis_client):
    """A stored doc names facets by a letter, leaves the decade out and names an item of rank 0 by its number; one
    with full names, its decade and [item, rank] pairs (as stored before) is updated and removed exactly like a new
    one."""
    ns = index._ns
    release = {"genres": ["Rock"], "styles": ["Punk"], "released": "1977", "country": "UK",
               "artists": [{"name": "Wire"}], "videos": [video("aaaaaaaaaaa")]}
    await index.apply_releases([(1, release)])
    [doc] = (await release_docs(redis_client, f"{ns}:d:0")).values()
    assert set(doc["f"]) == {"g", "s", "y", "c", "a"}
    assert doc["f"]["y"] == ["1977"]
    assert doc["i"] == {"v": [1]}

    await redis_client.eval(OLDER_DOC, 1, f"{ns}:d:0", "1", "1970")
    [doc] = (await release_docs(redis_client, f"{ns}:d:0")).values()
    assert set(doc["f"]) == {"genre", "style", "year", "country", "artist", "decade"}
    assert (doc["i"]["v"], set(doc["i"])) == ([[1, 0]], {"v", "m", "x"})
    await index.apply_releases([(1, {**release, "released": "1981"})])
    assert (await index.query(FacetQuery({"decade": ("1970",)}))).releases == 0
    assert (await index.query(FacetQuery({"decade": ("1980",), "style": ("Punk",)}))).releases == 1
    assert [v.value for v in await index.facet_values("decade")] == ["1980"]

    await redis_client.eval(OLDER_DOC, 1, f"{ns}:d:0", "1", "1980")
    await index.apply_releases([(1, None)])
    assert await index.stats() == {"releases": 0, "videos": 0, "facet_values": dict.fromkeys(FACETS, 0)}


async def test_small_number_sets_live_in_buckets_until_they_grow(index, redis_client):
    """A value's set of fewer than 16 releases is a field of a sb:* bucket; the 16th moves it to a key of its own for
    good, and its last removal leaves neither key nor field. Queries and counts read it either way."""
    ns, name = index._ns, "k:r:0:artist:Solo"

    def release(rid: int) -> dict[str, object]:
        return {"genres": ["Rock"], "country": "UK" if rid % 2 else "US", "artists": [{"name": "Solo"}],
                "videos": [video(f"s{rid:010d}")]}

    async def counted() -> tuple[int, int, int]:
        result = await index.query(FacetQuery({"artist": ("Solo",), "genre": ("Rock",)}))
        within = {v.value: v.releases for v in await index.facet_counts("artist", FacetQuery({"country": ("UK",)}))}
        return result.releases, result.videos, within.get("Solo", 0)

    await index.apply_releases([(rid, release(rid)) for rid in range(1, 16)])
    assert (await number_sets(redis_client, ns))[name] == "bucket"
    assert await counted() == (15, 15, 8)
    await index.apply_releases([(16, release(16))])
    assert (await number_sets(redis_client, ns))[name] == "set"
    assert await counted() == (16, 16, 8)
    await index.apply_releases([(rid, None) for rid in range(1, 11)])
    assert (await number_sets(redis_client, ns))[name] == "set"
    assert await counted() == (6, 6, 3)
    await index.apply_releases([(rid, None) for rid in range(11, 17)])
    assert [key async for key in redis_client.scan_iter(f"{ns}:sb:*")] == []
    assert name not in await number_sets(redis_client, ns)



async def test_a_video_of_one_owner_at_rank_0_is_only_in_the_owner_array(index, redis_client):
    """The owner hash o:v:* lists a video's owners only while it has more than its rank-0 owner, whom o0:v holds."""
    ns, shared = index._ns, video("shared00001")
    owners = f"{ns}:o:v:0"

    async def listed() -> dict[str, str]:
        return await redis_client.hgetall(owners)

    await index.apply_releases([(1, {"genres": ["Rock"], "videos": [shared]})])
    assert await listed() == {}
    await index.apply_releases([(2, {"genres": ["Jazz"], "videos": [shared]})])
    assert await listed() == {"1": "[1,2]"}
    await index.apply_releases([(1, None)])
    assert await listed() == {"1": "[0,2]"}
    result = await index.query(FacetQuery({"genre": ("Jazz",)}))
    assert (result.videos, [v.release_id for v in result.sample]) == (1, [2])
    await index.apply_releases([(3, {"genres": ["Rock"], "videos": [shared]})])  # takes the free rank 0
    assert await listed() == {"1": "[3,2]"}
    await index.apply_releases([(2, None)])
    assert await listed() == {}
    result = await index.query(FacetQuery({"genre": ("Rock",)}))
    assert (result.videos, [v.release_id for v in result.sample]) == (1, [3])


class _ClusterRedis:
    async def info(self, section: str) -> dict[str, int]:
        return {"cluster_enabled": 1} if section == "cluster" else {}


class _PlainRedis:
    def __init__(self, modules: list[dict[bytes, object]]) -> None:
        self._modules = modules

    async def module_list(self) -> list[dict[bytes, object]]:
        return self._modules


async def test_a_redis_without_the_roaring_module_is_refused_with_a_reason(redis_client):
    with pytest.raises(IndexServerError, match="needs the 'roaring' module"):
        await check_roaring_module(_PlainRedis([]))  # type: ignore[arg-type]
    with pytest.raises(IndexServerError, match="needs the 'roaring' module"):
        await check_roaring_module(_PlainRedis([{b"name": b"search", b"ver": 1}]))  # type: ignore[arg-type]
    with pytest.raises(IndexServerError, match="has version 6 of the 'roaring' module, and the index needs version 7"):
        await check_roaring_module(_PlainRedis([{b"name": b"roaring", b"ver": 6}]))  # type: ignore[arg-type]
    await check_roaring_module(redis_client)  # the stack's Redis loads it


async def test_a_redis_cluster_is_refused_with_a_reason():
    with pytest.raises(IndexServerError, match="one Redis instance, not a Redis Cluster"):
        await check_single_instance(_ClusterRedis())  # type: ignore[arg-type]
