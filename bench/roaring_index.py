"""bench/roaring_ab.py --index-releases: the discogs profile's facet index built in the module's server, its
number sets (plain bitmaps, and SETs of 512 numbers or more) measured, and each one's numbers again in the module's
type."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis
from redis.asyncio import Redis as AsyncRedis
from roaring_measures import BITMAP_MIN, dataset_bytes, usage
from universe import DiscogsUniverse, batches
from universe import build as build_index

from sinks.facet_index import FacetIndex

INDEX_NS = "roaring-ab"


@dataclass
class IndexMemory:
    """The facet index's number sets (k:* and tr:* keys) and what the module's type would take for them."""
    indexed: int = 0
    total: int = 0  # the whole index's data
    bitmaps: int = 0  # plain bitmaps, and the number of them
    bitmap_keys: int = 0
    bitmaps_as_roaring: int = 0
    big_sets: int = 0  # SETs of 512 numbers or more (below 1/4096 of their space), and the number of them
    big_set_keys: int = 0
    big_sets_as_roaring: int = 0


def convert_index(client: redis.Redis, memory: IndexMemory) -> None:
    """Measures every number-set key of the index, and the same numbers in the module's type (made and dropped)."""
    for pattern in (f"{INDEX_NS}:k:*", f"{INDEX_NS}:tr:*"):
        for batch in batches(client.scan_iter(match=pattern, count=2000), 1000):
            pipe = client.pipeline(transaction=False)
            for key in batch:
                pipe.type(key)
            kinds = pipe.execute()
            for key, kind in zip(batch, kinds, strict=True):
                if kind == b"string":
                    memory.bitmaps += usage(client, key)
                    memory.bitmap_keys += 1
                    client.execute_command("RBM.FROMBITMAP", "roaring-ab:converted", key)
                elif kind == b"set" and client.scard(key) >= BITMAP_MIN:
                    memory.big_sets += usage(client, key)
                    memory.big_set_keys += 1
                    numbers = [int(n) for n in client.smembers(key)]
                    client.execute_command("RBM.ADD", "roaring-ab:converted", *numbers)
                else:
                    continue
                converted = usage(client, "roaring-ab:converted")
                if kind == b"string":
                    memory.bitmaps_as_roaring += converted
                else:
                    memory.big_sets_as_roaring += converted
                client.delete("roaring-ab:converted")


async def build_real_index(url: str, releases: int, seed: int) -> int:
    """The discogs profile's index of `releases` catalogue releases, built as bench/universe.py builds it; indexed."""
    client = AsyncRedis.from_url(url, socket_timeout=600)
    try:
        index = FacetIndex(client, INDEX_NS)
        elapsed = await build_index(index, DiscogsUniverse(releases, seed), releases)
        indexed = int((await index.stats())["releases"])
        print(f"index of {releases:,} releases ({indexed:,} indexed) built in {elapsed:.0f} s", flush=True)
        return indexed
    finally:
        await client.aclose()


def index_memory(client: redis.Redis, url: str, releases: int, seed: int) -> IndexMemory:
    client.flushall()
    before = dataset_bytes(client)
    memory = IndexMemory(indexed=asyncio.run(build_real_index(url, releases, seed)))
    memory.total = dataset_bytes(client) - before
    convert_index(client, memory)
    return memory


def report_index(releases: int, memory: IndexMemory) -> None:
    per = max(1, memory.indexed)
    with_roaring = memory.total - memory.bitmaps + memory.bitmaps_as_roaring
    mixed = with_roaring - memory.big_sets + memory.big_sets_as_roaring
    print(f"\n## The discogs profile's index, {releases:,} releases ({memory.indexed:,} indexed)\n")
    print("| part | keys | today B per indexed release | in the module's type |")
    print("|---|---|---|---|")
    print(f"| plain bitmaps | {memory.bitmap_keys:,} | {memory.bitmaps / per:,.0f} | "
          f"{memory.bitmaps_as_roaring / per:,.0f} |")
    print(f"| SETs of >= 512 numbers | {memory.big_set_keys:,} | {memory.big_sets / per:,.0f} | "
          f"{memory.big_sets_as_roaring / per:,.0f} |")
    print(f"| whole index | | {memory.total / per:,.0f} | bitmaps converted {with_roaring / per:,.0f}; "
          f"both converted {mixed / per:,.0f} |")
    print(f"index memory, bitmaps in the module's type / today: {with_roaring / memory.total:.3f}; with the big SETs "
          f"too: {mixed / memory.total:.3f}")
