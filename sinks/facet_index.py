"""The Redis facet index: which releases (and their YouTube videos) have which genre, style, year, ... value.

Every write and every query runs as one Lua script (sinks/lua/*.lua), so a release's update is atomic, replays are
no-ops (each script diffs against what it indexed before) and query set algebra never leaves Redis.

Key layout, all under `{ns}:` (video ids are mapped to small integers so every set is integer-only, and sets of up
to 512 members are compact intsets):
  gen                   counter bumped by every write that changed something; part of every cache key
  vseq                  last video number handed out
  vid                   HASH YouTube id -> video number
  video                 HASH video number -> "YouTube id<TAB>title"
  doc:{rid}             HASH what is indexed for a release: f = JSON {facet: [values]}, v = JSON [numbers],
                        m = master id (absent without master)
  rv:{rid}              SET video numbers of a release
  vr:{n}                SET indexed releases having video n
  r:{facet}:{value}     SET release ids with that value
  v:{facet}:{value}     SET video numbers of those releases (exact answer for one-facet queries)
  cnt:{facet}           ZSET value -> number of releases (value lists, most releases first)
  lex:{facet}           ZSET score 0, member "folded<NUL>value" (case/accent-insensitive prefix search)
  fold:{facet}          HASH value -> folded value (to find its lex member again when the value goes)
  all:r, all:v          SET every indexed release / video number (the no-facet query)
  mr:{mid}              SET indexed releases of a master
  mdoc:{mid}, mv:{mid}  a master's own video numbers (JSON / SET); vm:{n} SET masters having video n
  q:{gen}:{hash}        HASH cached counts and result keys of a query (short TTL, dies with the generation)
  tmp:{gen}:{hash}:*    SETs of a query's intermediate results (TTL)
A release is indexed only while it has at least one YouTube video.

Queries (sinks/lua/query.lua): no facet -> all:*; one facet -> its value sets, ORed values kept as separate sets
(counts by inclusion-exclusion over SINTERCARD, nothing copied); AND -> one SINTERSTORE per combination of values,
then the exact video set by SUNIONSTORE of the matches' rv:* sets, so its cost grows with the number of matching
releases (then cached under q:{gen}:*). Samples: SRANDMEMBER, or with a seed (or a union of sets) numbers drawn by a
Park-Miller generator and kept when in the result, or a seeded shuffle of a small result.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis

from dataget.query import FACETS, MAX_LIMIT, UNIQUE_MODES, FacetQuery, FacetValue, QueryResult, SampleVideo
from stream_processors.facets import fold, release_facets, release_videos

_LUA = Path(__file__).with_name("lua")
# Query results stay cached this long (a write also invalidates them by bumping the generation); short, since a
# cached AND query keeps its intermediate sets, which can be large.
CACHE_TTL_S = 20
# A prefix search ranks at most this many matching values by release count.
PREFIX_SCAN_MAX = 20000


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_facet(facet: str) -> None:
    if facet not in FACETS:
        raise ValueError(f"unknown facet {facet!r}; known facets: {', '.join(FACETS)}")


def release_payload(release: dict[str, Any] | None) -> str:
    """What the write script indexes for a release; '' removes it (tombstone, or no YouTube video)."""
    videos = release_videos(release) if release else []
    if not release or not videos:
        return ""
    facets = {
        name: {value: fold(value) for value in sorted(values)}
        for name, values in release_facets(release).items()
        if values
    }
    return orjson.dumps({"f": facets, "v": videos, "m": release.get("master_id") or None}).decode()


def master_payload(master: dict[str, Any] | None) -> str:
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


def seed_state(seed: int) -> int:
    """A well-mixed start state in [1, 2^31 - 2] for the Lua Park-Miller generator."""
    return int.from_bytes(hashlib.sha256(str(seed).encode()).digest()[:8], "big") % 2147483646 + 1


class FacetIndex:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace
        self._apply_release = redis.register_script((_LUA / "apply_release.lua").read_text())
        self._apply_master = redis.register_script((_LUA / "apply_master.lua").read_text())
        self._query = redis.register_script((_LUA / "query.lua").read_text())
        self._prefix_top = redis.register_script((_LUA / "prefix_top.lua").read_text())

    def _key(self, *parts: str) -> str:
        return ":".join((self._ns, *parts))

    async def _apply(self, script: Any, items: Sequence[tuple[int, str]]) -> None:
        # Each script call is atomic per record; the pipeline only saves round trips.
        async with self._redis.pipeline(transaction=False) as pipe:
            for record_id, payload in items:
                await script(args=[self._ns, str(record_id), payload], client=pipe)
            await pipe.execute()

    async def apply_releases(self, batch: Sequence[tuple[int, dict[str, Any] | None]]) -> None:
        """Upsert releases (None = tombstone); re-applying a batch, whole or half done, converges."""
        await self._apply(self._apply_release, [(rid, release_payload(rec)) for rid, rec in batch])

    async def apply_masters(self, batch: Sequence[tuple[int, dict[str, Any] | None]]) -> None:
        """Upsert masters' own videos (None = tombstone)."""
        await self._apply(self._apply_master, [(mid, master_payload(rec)) for mid, rec in batch])

    async def query(self, q: FacetQuery) -> QueryResult:
        digest, tail = query_args(q)
        limit = max(0, min(q.limit, MAX_LIMIT))
        # Unseeded queries draw from a fresh random generator state.
        state = random.randrange(1, 2147483647) if q.seed is None else seed_state(q.seed)
        seeded = "" if q.seed is None else "seeded"
        args = [self._ns, digest, q.unique or "", str(limit), str(state), seeded, str(CACHE_TTL_S), *tail]
        releases, videos, flat = await self._query(args=args)
        sample = [
            SampleVideo(video_id=_text(flat[i]), title=_text(flat[i + 1]), release_id=int(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]
        return QueryResult(releases=int(releases), videos=int(videos), sample=sample)

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        """Values with release counts, most releases first; prefix is case- and accent-insensitive."""
        _check_facet(facet)
        limit = max(0, limit)
        if limit == 0:
            return []
        folded = fold(prefix)
        if not folded:
            rows = await self._redis.zrevrange(self._key("cnt", facet), 0, limit - 1, withscores=True)
            return [FacetValue(value=_text(v), releases=int(score)) for v, score in rows]
        flat = await self._prefix_top(
            keys=[self._key("lex", facet), self._key("cnt", facet)],
            args=["[" + folded, "[" + folded + "\xff", str(limit), str(PREFIX_SCAN_MAX)],
        )
        return [FacetValue(value=_text(flat[i]), releases=int(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def stats(self) -> dict[str, Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.scard(self._key("all", "r"))
            pipe.scard(self._key("all", "v"))
            for facet in FACETS:
                pipe.zcard(self._key("cnt", facet))
            releases, videos, *values = await pipe.execute()
        return {"releases": releases, "videos": videos, "facet_values": dict(zip(FACETS, values, strict=True))}

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
