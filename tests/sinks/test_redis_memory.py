"""The index's memory guard: the numbers it reports, and on a real Redis with an 8 MB maxmemory that the index stops
short of full, stays exact, leaves queries room, and takes the rest once maxmemory is raised."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.redis_memory import (
    EvictingRedis,
    Fill,
    GuardedIndex,
    IndexMemoryFull,
    MemoryGuard,
    RedisMemory,
    check_policy,
    redis_memory,
    redis_size,
)
from tests.index_memory import SMALL_MAXMEMORY, brute_count, release
from tests.sinks.index_docs import release_docs

MB = 1024**2
QUERIES = [FacetQuery(), FacetQuery({"genre": ("Rock",)}), FacetQuery({"genre": ("Jazz", "Pop"), "style": ("Dub",)}),
           FacetQuery({"decade": ("1970",), "country": ("UK", "Japan")}), FacetQuery({"format": ("CD",)})]


def test_a_redis_that_evicts_is_refused_naming_the_setting() -> None:
    memory = RedisMemory(used=MB, maxmemory=8 * MB, policy="allkeys-lru", system=24 * 1024 * MB)
    with pytest.raises(EvictingRedis, match="maxmemory-policy allkeys-lru.*maxmemory-policy noeviction"):
        check_policy(memory, "127.0.0.1:1")
    check_policy(RedisMemory(MB, 8 * MB, "noeviction", 0), "127.0.0.1:1")


def test_without_maxmemory_the_limit_is_a_share_of_the_machine() -> None:
    assert RedisMemory(MB, 0, "noeviction", 1000 * MB).limit(0.9) == 900 * MB
    assert RedisMemory(MB, 10 * MB, "noeviction", 1000 * MB).limit(0.9) == 9 * MB


def test_the_projection_counts_only_the_share_of_releases_that_get_indexed() -> None:
    # 1,000 releases indexed of 2,000 processed (half have videos), 3 KB each; 10,000 messages to go.
    memory = RedisMemory(used=9 * MB, maxmemory=10 * MB, policy="noeviction", system=0)
    fill = Fill("127.0.0.1:1", memory, 0.9, 1000, 3 * 1024, processed=2000, to_go=10_000)
    assert fill.needed() == 9 * MB + 5000 * 3 * 1024
    text = fill.message()
    for number in ("9.0 MB", "10.0 MB", "90%", "1,000 releases", "3.0 KB", "10,000", "~23.6 MB",
                   f"~{redis_size((9 * MB + 5000 * 3 * 1024) / 0.9)}", "DATAGET_INDEX_MEMORY_LIMIT",
                   "DATAGET_REDIS_MAXMEMORY", "not committed"):
        assert number in text, number
    assert "to go" not in Fill("a", memory, 0.9, 1000, 3072, None, None).message()  # no Kafka: no projection


def test_redis_sizes_round_up() -> None:
    assert (redis_size(MB + 1), redis_size(14.2 * 1024**3)) == ("2mb", "15gb")


def guarded(redis: Redis, index: FacetIndex, share: float) -> GuardedIndex:
    async def releases() -> int:
        return int((await index.stats())["releases"])

    async def progress() -> tuple[int, int]:
        return 0, 5000

    return GuardedIndex(index, MemoryGuard(redis, "small", share, releases, progress, confirm_after_s=0.1))


async def fill(index: GuardedIndex, batch: int) -> int:
    """Index releases in batches until the guard stops it; returns the first release id not indexed."""
    rid = 1
    while True:
        try:
            await index.apply_releases([(r, release(r)) for r in range(rid, rid + batch)])
        except IndexMemoryFull:
            return rid
        rid += batch
        assert rid < 100_000, "8 MB never filled"


async def test_the_index_stops_short_of_maxmemory_queries_keep_working_and_the_rest_goes_in_later(
        small_redis: Redis) -> None:
    redis = small_redis
    index = FacetIndex(redis, "mem")
    stopped_at = await fill(guarded(redis, index, 0.9), 100)
    memory = await redis_memory(redis)
    assert (memory.maxmemory, memory.policy) == (SMALL_MAXMEMORY, "noeviction")  # as the stack starts its Redis
    assert 0.9 * SMALL_MAXMEMORY <= memory.used < SMALL_MAXMEMORY
    indexed = [release(r) for r in range(1, stopped_at)]
    assert (await index.stats())["releases"] == len(indexed)  # nothing of the refused batch

    # The 10% left is the queries' room: cold queries (each writes temporary keys) all answer, and exactly.
    for q in QUERIES:
        result = await index.query(q)
        assert (result.releases, result.videos) == brute_count(indexed, q)

    # A bigger maxmemory, and the rest goes in: the counts are those of every release.
    await redis.config_set("maxmemory", str(4 * SMALL_MAXMEMORY))
    every = [release(r) for r in range(1, stopped_at + 1000)]
    await guarded(redis, index, 0.9).apply_releases([(r["id"], r) for r in every[stopped_at - 1:]])
    for q in QUERIES:
        result = await index.query(q)
        assert (result.releases, result.videos) == brute_count(every, q)


async def test_a_write_redis_refuses_for_memory_is_index_memory_full_with_whole_chunks(small_redis: Redis) -> None:
    redis = small_redis
    index = FacetIndex(redis, "oom")
    # A limit past maxmemory: only Redis' own refusal stops the writes.
    with pytest.raises(IndexMemoryFull, match="the facet index is full") as full:
        for rid in range(1, 100_000, 300):
            await guarded(redis, index, 2.0).apply_releases([(r, release(r)) for r in range(rid, rid + 300)])
    assert "5,000 release messages are still to go" in str(full.value)
    # Each write call (a chunk of 250, then 50, of each batch) is whole or not at all. Not always a prefix:
    # the refused chunk's arguments, freed, can make room for the next.
    indexed = {int(rid) async for key in redis.scan_iter(match="oom:d:*") for rid in await release_docs(redis, key)}
    assert int((await index.stats())["releases"]) == len(indexed)
    for batch in range(1, max(indexed) + 1, 300):
        for chunk in (range(batch, batch + 250), range(batch + 250, batch + 300)):
            assert len(indexed & set(chunk)) in (0, len(chunk)), chunk.start
    await redis.config_set("maxmemory", str(4 * SMALL_MAXMEMORY))
    for q in QUERIES:
        result = await index.query(q)
        assert (result.releases, result.videos) == brute_count([release(r) for r in sorted(indexed)], q)


async def test_a_redis_switched_to_eviction_stops_the_writes(small_redis: Redis) -> None:
    redis = small_redis
    index = FacetIndex(redis, "lru")
    writer = guarded(redis, index, 0.9)
    await writer.apply_releases([(1, release(1))])
    await redis.config_set("maxmemory-policy", "allkeys-lru")
    with pytest.raises(EvictingRedis):
        await writer.apply_releases([(2, release(2))])
    assert (await index.stats())["releases"] == 1
