"""Every key of a small index built from the real excerpts, compared with tests/golden/facet_index.json.

The history: the excerpts' releases and masters; reissues of a famous master, more than TAIL_RANK of them sharing
its videos (so masters, videos and master videos get tail owners); anthologies with enough videos that the biggest
values turn from sets into bitmaps; updates, tombstones and owners that take the ranks tombstones freed. Then what a
compacted topic would hold is replayed into a new index version, which is switched in. The key layout is documented
in sinks/facet_index.py; a change to it must change this file too (DATAGET_UPDATE_GOLDEN=1, see tests/golden/README.md).
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from producers.records import iter_records
from runtime.settings import Settings
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.index_versions import activate, new_index_namespace, version_namespace
from tests.golden import check_golden
from tests.sinks.index_docs import bucket_sets, is_doc_bucket, is_set_bucket, release_docs

pytestmark = pytest.mark.stack

SOURCES = ("philipmat-20200806", "tgmz-2025-2026")
VIOLATOR_RELEASE, VIOLATOR_MASTER = 10222, 18080
REISSUES = range(90_000_001, 90_000_015)  # 14 reissues: 6 past the ranks an item keeps apart
# Anthologies of 130 videos each: values with more videos than a set holds before it becomes a roaring bitmap.
ANTHOLOGIES, ANTHOLOGY_VIDEOS = range(80_000_001, 80_000_005), 130
# Keys holding binary strings: u32 arrays indexed by number.
U32_PREFIXES = ("rid", "o0:", "o1:")

Batch = list[tuple[int, dict[str, Any] | None]]


def fixture_records(fixtures_dir: Path, entity: str) -> Batch:
    return [(item.record_id, item.record) for source in SOURCES
            for item in iter_records(fixtures_dir / f"{entity}-sample-{source}.xml")]


def reissue(violator: dict[str, Any], master: dict[str, Any], n: int, rid: int) -> dict[str, Any]:
    """Release 10222 pressed again: another country, year and format, and a few of its master's videos."""
    countries, formats = ("UK", "US", "Germany", "Japan", "Europe"), ("Vinyl", "CD", "Cassette")
    videos = master["videos"]
    return {**copy.deepcopy(violator), "id": rid, "country": countries[n % 5], "released": f"{1990 + n}",
            "formats": [{"name": formats[n % 3], "qty": "1", "text": None, "descriptions": []}],
            "videos": [videos[n % len(videos)], videos[(n + 1) % len(videos)], videos[0]]}


def anthology(rid: int) -> dict[str, Any]:
    vids = [f"a{rid % 10}{n:09d}" for n in range(ANTHOLOGY_VIDEOS)]
    return {"id": rid, "genres": ["Electronic"], "styles": [], "released": "1999", "country": "Europe",
            "labels": [], "artists": [{"name": "Various"}], "formats": [{"name": "File"}], "master_id": None,
            "videos": [{"src": f"https://www.youtube.com/watch?v={vid}", "youtube_id": vid, "title": vid[-3:]}
                       for vid in vids]}


def history(fixtures_dir: Path) -> tuple[list[Batch], list[Batch]]:
    """(release batches, master batches) in the order the topics carry them."""
    releases, masters = fixture_records(fixtures_dir, "releases"), fixture_records(fixtures_dir, "masters")
    violator, violator_master = dict(releases)[VIOLATOR_RELEASE], dict(masters)[VIOLATOR_MASTER]
    reissues = {rid: reissue(violator, violator_master, n, rid) for n, rid in enumerate(REISSUES)}
    first, second = sorted(reissues)[:10], sorted(reissues)[10:]
    updated_22 = {**dict(releases)[22], "genres": ["Jazz"], "country": "Iceland"}
    moved = {**reissues[first[8]], "country": "Iceland"}  # a tail owner changes a value
    mute = {**reissues[first[9]], "videos": []}  # no video left: leaves the index
    release_batches: list[Batch] = [
        releases,
        [(rid, reissues[rid]) for rid in first],
        [(rid, anthology(rid)) for rid in ANTHOLOGIES],
        [(22, updated_22), (first[8], moved), (first[9], mute)],
        # Tombstones, low ranks among them, then owners that take the freed ranks.
        [(first[0], None), (first[1], None), (2324, None), (ANTHOLOGIES[0], None)],
        [(rid, reissues[rid]) for rid in second],
    ]
    shorter = {**violator_master, "videos": violator_master["videos"][2:]}
    master_batches: list[Batch] = [masters, [(VIOLATOR_MASTER, shorter), (118, None)]]
    return release_batches, master_batches


def compacted(batches: list[Batch]) -> Batch:
    """The latest value of each id that has one, as a compacted topic holds them once its tombstones expired."""
    latest: dict[int, dict[str, Any] | None] = {}
    for batch in batches:
        latest.update(batch)
    return [(rid, record) for rid, record in sorted(latest.items()) if record is not None]


async def dump(redis: Redis, base: str) -> dict[str, Any]:
    """Every key under base (prefix removed): its type and content, binary strings decoded by what they hold."""
    out: dict[str, Any] = {}
    async for raw_key in redis.scan_iter(match=f"{base}:*", count=1000):
        key = raw_key.decode().removeprefix(f"{base}:")
        name = key.split(":", 1)[1] if key.startswith("v") and ":" in key else key  # within an index version
        kind = (await redis.type(raw_key)).decode()
        if kind == "string":
            value = await redis.get(raw_key)
            content: Any
            if name.startswith(U32_PREFIXES):
                assert len(value) % 4 == 0, key
                content = {"u32": [int.from_bytes(value[i:i + 4], "big") for i in range(0, len(value), 4)]}
            else:  # counters, JSON docs, and the active version's name (made independent of the namespace)
                content = value.decode().removeprefix(f"{base}:")
        elif kind == "set":
            content = sorted(member.decode() for member in await redis.smembers(raw_key))
        elif kind == "roaringbm":
            content = await redis.execute_command("RBM.MEMBERS", raw_key)
        elif kind == "ownertail":
            content = {str(owner): items for owner, *items in await redis.execute_command("RBM.TAILITEMS", raw_key)}
        elif kind == "hash" and is_doc_bucket(name):
            content = await release_docs(redis, raw_key)
        elif kind == "hash" and is_set_bucket(name):
            content = await bucket_sets(redis, raw_key)
        elif kind == "hash":
            content = {f.decode(): v.decode() for f, v in (await redis.hgetall(raw_key)).items()}
        elif kind == "zset":
            content = [[m.decode(), score] for m, score in await redis.zrange(raw_key, 0, -1, withscores=True)]
        else:
            raise AssertionError(f"{key}: unexpected type {kind}")
        out[key] = {"type": kind, "value": content}
    return out


@pytest.fixture
async def redis(isolated_settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(isolated_settings.redis_url)
    yield client
    await client.aclose()


async def test_index_keys_match_the_golden_file(redis: Redis, isolated_settings: Settings, fixtures_dir: Path) -> None:
    base = isolated_settings.namespace
    release_batches, master_batches = history(fixtures_dir)
    live = FacetIndex(redis, version_namespace(base, 0))
    await live.apply_releases(release_batches[0])
    await live.apply_masters(master_batches[0])
    for batch in release_batches[1:]:
        await live.apply_releases(batch)
    await live.apply_masters(master_batches[1])

    rebuilt = FacetIndex(redis, await new_index_namespace(redis, base))
    await rebuilt.apply_releases(compacted(release_batches))
    await rebuilt.apply_masters(compacted(master_batches))
    await activate(redis, base, version_namespace(base, 1))

    state = await dump(redis, base)
    # The history reached what it is meant to: roaring bitmaps, tails of every kind, and a second version switched in.
    assert {"k:v:0:*:*", "k:v:0:genre:Electronic"} <= {key[3:] for key, item in state.items()
                                                       if key.startswith("v0:k:") and item["type"] == "roaringbm"}
    # Version 1's number sets: keys of their own, and those in its buckets.
    sets = [key.removeprefix("v1:") for key in state if key.startswith("v1:k:")]
    sets += [name for key, item in state.items() if key.startswith("v1:sb:") for name in item["value"]]
    tails = {name.split(":")[1] for name in sets if name.startswith("k:") and name.split(":")[2] == "t"}
    assert tails == {"v", "m", "x"}
    assert state["active"]["value"] == "v1"
    check_golden("facet_index.json", state)

    # A replay of what the topics hold answers like the index that lived through the history.
    assert await rebuilt.stats() == await live.stats()
    for query in (FacetQuery(), FacetQuery({"country": ("Iceland",)}), FacetQuery({"genre": ("Electronic",)}),
                  FacetQuery({"genre": ("Electronic",)}, unique="master"), FacetQuery({"format": ("CD", "Vinyl")})):
        got, expected = await rebuilt.query(query), await live.query(query)
        assert (got.releases, got.videos) == (expected.releases, expected.videos), query
