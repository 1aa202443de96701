"""The Redis facet index: which releases (and their YouTube videos) have which genre, style, year, ... value.

Every write runs as a command of the index's Redis module (RBM.INDEXRELEASES, RBM.INDEXMASTERS:
stack/redis_roaring/src/index_write.rs) and every query too (RBM.QUERY: src/query.rs); facet counts and prefix
searches run as Lua scripts (sinks/lua/*.lua; common.lua is their prelude). So an update is atomic per batch, replays
are no-ops (each release is diffed against its stored doc) and query algebra never leaves Redis.

One Redis instance. The scripts and commands compute the keys they touch, which a Redis Cluster cannot route to its
shards, so the index lives on one instance (read replicas of it may serve queries); a FacetIndex refuses a cluster on
its first call. Several indexes scale out as separate instances, not as one cluster.

Numbers and items. Indexed releases get dense numbers (seq:r), videos too (seq:v); masters use their ids. A query
counts *items* matching the facets: the release itself (kind r), its videos (kind v), its master (kind m, for
unique=master) and its master's own videos (kind x). An item can belong to several releases (a video shared by
reissues, a master's releases), so each owner of an item holds a *rank* (its lowest free one), and items are filed
per rank: k:{kind}:{rank}:{facet}:{value} holds the items whose rank-th owner has that value. Every filed item has
exactly one owner, so "some owner of item i matches every facet" = i is in the AND of the facets' ORs at one rank;
ORing the ranks gives the exact set of distinct matching videos (or masters) without walking releases. Ranks past
the first few are sparse, but a famous album has thousands of releases, so owners past the first 8 ranks share
the tail rank (TAIL_RANK), kept in a roaring bitmap per item and filed per value only (k:{kind}:t:{f}:{v}): for one
facet that is exact, for more its items are candidates whose tail owners are looked up among the matching releases
(by the tail items of the matching releases that own any, probes in one ti: value per kind, or by each candidate's ot:
owners, a key read each, whichever side costs less).
A one-facet query of a facet whose values each cover a large share of the catalogue (genre, decade, format, country,
and '*') reads one set per value: its items are also filed under any rank, k:{kind}:a:{f}:{v}, where ORing a broad
value's nine rank sets took most of such a query.
A narrow query (at most NARROW_RELEASES matching releases) skips the ranks: its videos are read off those releases'
docs, which cost ~3 us each (read without their facets) against 0.5-5 ms for a pass over the ranks at 1M-4M releases.

Bucket, set or roaring bitmap. A number set (k:*, tr:*, mr:*) of fewer than 16 numbers has no key of its own: it is a
field of a sb:* bucket hash, its numbers packed as u32s (most sets are an artist's or a label's few releases or
videos, and a key costs ~100 bytes before its first number); a query reads it into a roaring bitmap. From 16 numbers
it has its own key, a SET of numbers (a compact intset) until it holds 512 numbers, then a roaring bitmap for good
(a write makes these moves once per call for each set it changed):
the key type `roaringbm` of the roaring module (stack/redis_roaring, loaded into the index's Redis; a FacetIndex
checks for it on its first call). A roaring bitmap keeps its numbers in 64K blocks, each an
array, a bitmap or runs, so it costs about what it holds (up to ~2 bytes a member, plus ~35 per block it touches)
and a query's ANDs, ORs and counts run in the module block by block, at a cost that follows the sets, not the number
space: every set it meets is read into a roaring bitmap in memory, so it stores no intermediate result and nothing
walks a release. An index whose big number sets are plain bitmaps
(STRING keys) has an older layout: writes and queries refuse it (IndexFormatError: rebuild it with `dataget reindex`).

Small hashes. Per-item hashes are bucketed (o:, video:, vid:) so that each stays a listpack, a few bytes a field where
one big hash pays ~60 bytes a field in its hash table: the stack's Redis keeps hashes of up to 512 fields and values of
up to 512 bytes as listpacks (dataget/stack/services.py). The vid:* buckets are a fixed function of the id, ~230 ids
each at the full catalogue's ~30M videos. Release docs are MessagePack (~210 bytes, JSON ~315) in d:* buckets. An
index of an older format (its `format` key; missing in those keeping videos in the single hashes `video` and `vid` and
each doc in a STRING key) is refused the same way.

Key layout, all under `{ns}:`:
  gen                        bumped by every write that changed something; part of every cache key
  seq:r, seq:v, seq:m        last release / video number handed out; highest master id seen
  count:r, count:v           indexed releases / videos having a release (stats)
  rid                        BITFIELD u32 array: release number -> release id
  format                     the layout the writes write ('7'); an index holding releases without it is refused
  d:{rid // 64}              HASH release id -> MessagePack doc of what is indexed for it: n = number,
                             f = {facet: [values]}, m = master id, i = {kind: [item, or [item, rank] when the
                             rank is not 0]} (kind r, always [[n, 0]], and kinds without items not stored)
  md:{mid // 128}            HASH master id -> JSON [[video number, rank]] of its own videos (kind M: masters owning
                             them)
  mr:{mid}                   number set (bucket, SET or roaring bitmap, as k:*) of a master's release ids (its videos
                             change -> their x items change)
  o:{kind}:{item // 128}     HASH item -> JSON owners by rank below the tail (release numbers; 0 = free rank); a
                             v or x item whose one owner holds rank 0 is only in o0:{kind}
  ot:{kind}:{item}           roaring bitmap: the item's owners in the tail
  ti:{kind}, tr:{kind}       the module's `ownertail` value: release number -> the items it owns in the tail
                             (sorted flat arrays a query walks forward, where a key per release cost a keyspace lookup
                             and ~100 bytes); number set: releases owning any
  o0:{kind}, o1:{kind}       BITFIELD u32 arrays: item -> its rank-0 / rank-1 owner (kinds v and x; 0 = none)
  layers:{kind}              ranks in use for a kind (the tail counts as one)
  k:{kind}:{rank}:{f}:{v}    SET or roaring bitmap of items (see above), rank 't' = the tail; facet '*' value '*' =
                             every release, k:r:0:*:nom = releases without master; rank 'a' = any rank (kinds v, m,
                             x; facets *, genre, decade, format, country: src/layout.rs ANY_RANK_FACETS)
  sb:{bucket}                HASH number set name (k:..., tr:..., mr:...) -> its numbers as little-endian u32s
                             while it has fewer than 16 ('' once it has a key of its own); bucket = the first 17
                             bits of the name's SHA-1 (of 131,072)
  tc:{kind}:{item}           HASH "facet letter<NUL>value" (letters as in docs) -> how many of the item's tail owners
                             have it
  video:{n // 128}           HASH video number -> "YouTube id<TAB>title"
  vid:{bucket}               HASH YouTube id -> video number; bucket = the first 17 bits of the id's SHA-1 (of 131,072)
  cnt:{f}, lex:{f}, fold:{f} release count per value; "folded<NUL>value" for prefix search; value -> folded, only
                             where that is not the value in lower case (an index built before: every value)
  q:{gen}:{hash}             HASH cached counts (r, v) of a query whose result is kept (short TTL, dies with the
                             generation)
  tmp:{gen}:{hash}:rel|vid   roaring bitmaps: a cached query's releases and videos (its TTL + 5 s), kept only when
                             both take at most 64 KiB (query.rs KEEP_RESULT_BYTES)
  tmp:counts:{n}             a facet_counts call's selection and its SETs (deleted before it returns)
A release is indexed only while it has at least one YouTube video.

Samples: a partial shuffle of the result's ranks (Park-Miller generator, seeded by the query seed, so reproducible),
uniform over the result; the video at each drawn rank is the result's rank-th number. Each sampled video names the
release of its first owner (by rank) that matches the query.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import ZSetScoredMembers

from schemas.query import (
    FACETS,
    MAX_LIMIT,
    UNIQUE_MODES,
    FacetQuery,
    FacetValue,
    IndexFormatError,
    QueryResult,
    SampleVideo,
)
from schemas.records import Master, Release
from sinks.facets import fold, release_facets, release_videos
from sinks.lua_source import script_source
from sinks.redis_text import redis_text

# Query results stay cached this long (a write also invalidates them by bumping the generation): long enough for a
# preview followed by a playlist request. Only small results are cached (a broad one is computed again): each keeps
# two roaring bitmaps of its releases and videos.
CACHE_TTL_S = 5
# Up to this many matching releases, a query's counts come from their docs instead of a pass over every owner rank
# (stack/redis_roaring/src/query.rs counts_from_docs).
NARROW_RELEASES = 64
# A prefix search ranks at most this many matching values by release count.
PREFIX_SCAN_MAX = 20000
# Counting within a selection, the values with the most releases in the whole index are the candidates: twice as
# many as asked for, at least 12. Each costs an RBM.ANDCARD with the selection, or lookups of a small set's members
# (bench/facet_counts.py measures the cost per candidate).
FACET_COUNT_CANDIDATES_MIN = 12


def facet_count_candidates(limit: int) -> int:
    return max(2 * limit, FACET_COUNT_CANDIDATES_MIN)
# Records per write call.
WRITE_CHUNK = 250


# A refusal of an index of an older layout starts with this; Redis wraps it in script details when a script meets it.
_INDEX_FORMAT = re.compile(r"INDEX_FORMAT (.*?)(?: script: |$)", re.DOTALL)
# The name the roaring module (stack/redis_roaring) registers, as MODULE LIST shows it.
ROARING_MODULE = "roaring"
# The module version whose commands and key types the index uses (7: RBM.PACK, which set_packing.py calls).
ROARING_MODULE_VERSION = 7


@contextmanager
def _index_format_errors() -> Iterator[None]:
    """An error about an index of an older layout, raised as IndexFormatError."""
    try:
        yield
    except ResponseError as exc:
        if (old_layout := _INDEX_FORMAT.search(str(exc))) is None:
            raise
        raise IndexFormatError(old_layout.group(1)) from None


def _check_facet(facet: str) -> None:
    if facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r}; known facets: {', '.join(FACETS)}")


def release_payload(release: Release | None) -> str:
    """What a write indexes for a release; '' removes it (tombstone, or no YouTube video)."""
    videos = release_videos(release) if release else []
    if not release or not videos:
        return ""
    facets = {
        name: {value: fold(value) for value in sorted(values)}
        for name, values in release_facets(release).items()
        if values
    }
    return orjson.dumps({"f": facets, "v": videos, "m": release.get("master_id") or None}).decode()


def master_payload(master: Master | None) -> str:
    videos = release_videos(master) if master else []
    return orjson.dumps({"v": videos}).decode() if videos else ""


def query_args(q: FacetQuery) -> tuple[str, list[str]]:
    """Validated, normalized query: (cache hash, facet ARGV tail). Equal queries give equal hashes."""
    if q.unique is not None and q.unique not in UNIQUE_MODES:
        raise ValueError(f"unknown unique mode {q.unique!r}; known: {', '.join(UNIQUE_MODES)}")
    tail: list[str] = []
    for name in sorted(q.facets):
        _check_facet(name)
        values = sorted({v.strip() for v in q.facets[name] if v and v.strip()})
        if values:
            tail += [name, str(len(values)), *values]
    digest = hashlib.sha1(orjson.dumps([q.unique or "", tail])).hexdigest()
    return digest, tail


def query_command_args(namespace: str, q: FacetQuery, active_key: str = "",
                       narrow_releases: int = NARROW_RELEASES) -> list[str]:
    """The arguments of RBM.QUERY (stack/redis_roaring/src/query.rs) for q on the index at namespace."""
    digest, tail = query_args(q)
    limit = max(0, min(q.limit, MAX_LIMIT))
    # Unseeded queries draw from a fresh random generator state.
    state = random.randrange(1, 2147483647) if q.seed is None else seed_state(q.seed)
    seeded = "" if q.seed is None else "seeded"
    return [namespace, digest, q.unique or "", str(limit), str(state), seeded, str(CACHE_TTL_S), active_key,
            str(narrow_releases), *tail]


class IndexServerError(RuntimeError):
    """The Redis server cannot hold the facet index."""


async def check_single_instance(redis: Redis) -> None:
    if (await redis.info("cluster")).get("cluster_enabled"):
        raise IndexServerError(
            "the facet index needs one Redis instance, not a Redis Cluster (it computes key names, which a "
            "cluster cannot route): point DATAGET_REDIS_URL at a standalone Redis or a primary with replicas")


async def check_roaring_module(redis: Redis) -> None:
    modules = [{redis_text(k): redis_text(v) for k, v in module.items()} for module in await redis.module_list()]
    loaded = [module for module in modules if module.get("name") == ROARING_MODULE]
    if not loaded:
        raise IndexServerError(
            f"the facet index's Redis needs the {ROARING_MODULE!r} module (stack/redis_roaring), which keeps its "
            "big number sets: load it with --loadmodule (docs/operations.md); `dataget stack up` starts Redis with it")
    version = int(loaded[0].get("ver") or 0)
    if version < ROARING_MODULE_VERSION:
        raise IndexServerError(
            f"the facet index's Redis has version {version} of the {ROARING_MODULE!r} module, and the index needs "
            f"version {ROARING_MODULE_VERSION} or later: load the module built from stack/redis_roaring "
            "(`dataget stack build`) and restart Redis")


def seed_state(seed: int) -> int:
    """A well-mixed start state in [1, 2^31 - 2] for the Lua Park-Miller generator."""
    return int.from_bytes(hashlib.sha256(str(seed).encode()).digest()[:8], "big") % 2147483646 + 1


class FacetIndex:
    def __init__(self, redis: Redis, namespace: str, narrow_releases: int = NARROW_RELEASES) -> None:
        """narrow_releases: the most matching releases a query reads its counts off their docs for (0: never)."""
        self._redis = redis
        self._ns = namespace
        self._narrow_releases = narrow_releases
        self._prefix_top = redis.register_script(script_source("prefix_top"))
        self._facet_counts = redis.register_script(script_source("facet_counts"))
        self._generation = redis.register_script(script_source("generation"))
        self._server_checked = False

    async def _check_server(self) -> None:
        if not self._server_checked:
            await check_single_instance(self._redis)
            await check_roaring_module(self._redis)
            self._server_checked = True

    def _key(self, *parts: str) -> str:
        return ":".join((self._ns, *parts))

    async def _apply(self, command: str, items: Sequence[tuple[int, str]]) -> None:
        await self._check_server()
        # One call per chunk: atomic, and short enough not to hold queries up for long.
        async with self._redis.pipeline(transaction=False) as pipe:
            for start in range(0, len(items), WRITE_CHUNK):
                args = [self._ns]
                for record_id, payload in items[start:start + WRITE_CHUNK]:
                    args += [str(record_id), payload]
                pipe.execute_command(command, *args)
            # Each call's own error: the pipeline's would wrap its message in the call's arguments.
            errors = [result for result in await pipe.execute(raise_on_error=False) if isinstance(result, Exception)]
        if errors:
            with _index_format_errors():
                raise errors[0]

    async def apply_releases(self, batch: Sequence[tuple[int, Release | None]]) -> None:
        """Upsert releases (None = tombstone); re-applying a batch, whole or half done, converges."""
        await self._apply("RBM.INDEXRELEASES", [(rid, release_payload(rec)) for rid, rec in batch])

    async def apply_masters(self, batch: Sequence[tuple[int, Master | None]]) -> None:
        """Upsert masters' own videos (None = tombstone)."""
        await self._apply("RBM.INDEXMASTERS", [(mid, master_payload(rec)) for mid, rec in batch])

    async def query(self, q: FacetQuery, active_key: str = "") -> QueryResult:
        """With active_key, the index version that key names (this one while it is unset), read in the script."""
        await self._check_server()
        with _index_format_errors():
            args = query_command_args(self._ns, q, active_key, self._narrow_releases)
            releases, videos, flat, generation = await self._redis.execute_command("RBM.QUERY", *args)
        sample = [
            SampleVideo(video_id=redis_text(flat[i]), title=redis_text(flat[i + 1]), release_id=int(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]
        return QueryResult(releases=int(releases), videos=int(videos), sample=sample, generation=redis_text(generation))

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        """Values with release counts, most releases first; prefix is case- and accent-insensitive."""
        _check_facet(facet)
        limit = max(0, limit)
        if limit == 0:
            return []
        folded = fold(prefix)
        if not folded:
            # redis-py's return type is the same with scores or without; with them, rows are (member, score).
            rows = cast(ZSetScoredMembers,
                        await self._redis.zrevrange(self._key("cnt", facet), 0, limit - 1, withscores=True))
            return [FacetValue(value=redis_text(v), releases=int(score)) for v, score in rows]
        flat = await self._prefix_top(
            keys=[self._key("lex", facet), self._key("cnt", facet)],
            args=["[" + folded, "[" + folded + "\xff", str(limit), str(PREFIX_SCAN_MAX)],
        )
        return [FacetValue(value=redis_text(flat[i]), releases=int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def facet_counts(self, facet: str, within: FacetQuery, prefix: str = "", limit: int = 20,
                           active_key: str = "") -> list[FacetValue]:
        """Values of facet (prefix as in facet_values) with their releases among those matching within's other
        facets, most first; each count is what a query of within's other facets and that one value counts (without
        `unique`). The values counted are the facet_count_candidates(limit) with the most releases in the whole
        index, so one with many releases in the selection but few overall can be missing. active_key: as in query."""
        _check_facet(facet)
        limit = max(0, limit)
        if limit == 0:
            return []
        _, others = query_args(FacetQuery(facets={f: v for f, v in within.facets.items() if f != facet}))
        folded = fold(prefix)
        lex = ["[" + folded, "[" + folded + "\xff"] if folded else ["", ""]
        candidates = facet_count_candidates(limit)
        args = [self._ns, active_key, facet, *lex, str(limit), str(candidates), str(PREFIX_SCAN_MAX), *others]
        await self._check_server()
        with _index_format_errors():
            flat = await self._facet_counts(args=args)
        return [FacetValue(value=redis_text(flat[i]), releases=int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def generation(self, active_key: str = "") -> str:
        """Names the index's content: it changes with every write that changed something and with every switch of
        the active version (active_key: as in query). Equal generations give equal answers to equal seeded queries."""
        namespace, gen = await self._generation(args=[self._ns, active_key])
        return f"{redis_text(namespace)}@{redis_text(gen)}"

    async def stats(self) -> dict[str, Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(self._key("count", "r"))
            pipe.get(self._key("count", "v"))
            for facet in FACETS:
                pipe.zcard(self._key("cnt", facet))
            releases, videos, *values = await pipe.execute()
        return {
            "releases": int(releases or 0),
            "videos": int(videos or 0),
            "facet_values": dict(zip(FACETS, values, strict=True)),
        }

    async def drop(self) -> None:
        """Delete every key of the namespace (old index versions, tests)."""
        pattern = "".join("\\" + c if c in "*?[]\\" else c for c in self._ns) + ":*"
        batch: list[Any] = []
        async for key in self._redis.scan_iter(match=pattern, count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                await self._redis.unlink(*batch)
                batch = []
        if batch:
            await self._redis.unlink(*batch)
