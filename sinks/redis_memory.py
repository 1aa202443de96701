"""How full the facet index's Redis may get.

Redis must never evict index keys: with any policy but `noeviction` a full Redis drops keys and the index silently
loses releases, so the index workers refuse such a Redis. With `noeviction` a full Redis refuses writes instead, the
site's queries included (each writes temporary keys), so the index workers stop well before: once Redis holds a
share of its maxmemory (DATAGET_INDEX_MEMORY_LIMIT), checked with INFO memory before every index write. Stopping, they
name the numbers and the maxmemory the rest of the topic would need.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from schemas.records import Master, Release
from sinks.aof_rewrites import Progress
from sinks.facet_index import CACHE_TTL_S

log = logging.getLogger(__name__)

NOEVICTION = "noeviction"
# Bytes per release are measured over what this process indexed once it is this many releases; before, they are
# Redis' whole memory over the releases indexed (which counts everything else in that Redis too).
MIN_MEASURED_RELEASES = 1000
# Past the limit, the check looks again after this long before it stops the worker: the site's cached query results
# (temporary keys with a TTL) may have taken Redis there for a moment.
CONFIRM_AFTER_S = CACHE_TTL_S + 1.0


class IndexMemoryError(RuntimeError):
    """The index's Redis cannot safely take more writes: retrying does not help, an operator has to act."""


class EvictingRedis(IndexMemoryError):
    """The Redis would evict index keys when full."""


class IndexMemoryFull(IndexMemoryError):
    """The index reached its share of Redis' maxmemory (or Redis refused a write for want of memory)."""


@dataclass(frozen=True)
class RedisMemory:
    """What INFO memory says of a Redis."""

    used: int
    maxmemory: int  # 0 = none
    policy: str
    system: int  # physical memory of Redis' machine

    @classmethod
    def from_info(cls, info: Mapping[str, Any]) -> RedisMemory:
        return cls(used=int(info["used_memory"]), maxmemory=int(info["maxmemory"]),
                   policy=str(info["maxmemory_policy"]), system=int(info.get("total_system_memory", 0)))

    @property
    def cap(self) -> int:
        """maxmemory; without one, Redis takes what its machine has."""
        return self.maxmemory or self.system

    def limit(self, share: float) -> int:
        return int(self.cap * share)


async def redis_memory(redis: Redis) -> RedisMemory:
    return RedisMemory.from_info(await redis.info("memory"))


def check_policy(memory: RedisMemory, address: str) -> None:
    if memory.policy != NOEVICTION:
        raise EvictingRedis(
            f"Redis at {address} has maxmemory-policy {memory.policy}: when full it would evict keys of the facet "
            f"index, which would silently lose releases. The index needs maxmemory-policy {NOEVICTION} (CONFIG SET "
            f"maxmemory-policy {NOEVICTION}, or in its redis.conf); point DATAGET_REDIS_URL at a Redis of its own, "
            "not a cache")


def size_text(size: float) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size:.0f} B"


def redis_size(size: float) -> str:
    """size rounded up to a whole number in Redis' units (for CONFIG SET maxmemory or DATAGET_REDIS_MAXMEMORY)."""
    if size >= 1024**3:
        return f"{math.ceil(size / 1024**3)}gb"
    return f"{math.ceil(size / 1024**2)}mb"


@dataclass(frozen=True)
class Fill:
    """How full the index's Redis is when the index workers stop, and what the rest of the releases would need."""

    address: str
    memory: RedisMemory
    share: float  # DATAGET_INDEX_MEMORY_LIMIT
    releases: int  # indexed in this index version
    bytes_per_release: float | None
    processed: int | None  # release messages the worker's consumer group is past
    to_go: int | None  # release messages not processed yet

    def needed(self) -> int | None:
        """Redis memory once the releases still to go are indexed (only a share of releases have videos)."""
        if self.to_go is None or self.bytes_per_release is None:
            return None
        indexed_share = min(1.0, self.releases / self.processed) if self.processed else 1.0
        return int(self.memory.used + self.to_go * indexed_share * self.bytes_per_release)

    def message(self) -> str:
        memory = self.memory
        cap = (f"its maxmemory {size_text(memory.maxmemory)}" if memory.maxmemory
               else f"its machine's {size_text(memory.system)} (it has no maxmemory)")
        parts = [
            f"the facet index is full: Redis at {self.address} uses {size_text(memory.used)} of {cap}, past the "
            f"{self.share:.0%} the index workers fill (DATAGET_INDEX_MEMORY_LIMIT; the rest is room for the site's "
            f"queries). {self.releases:,} releases are indexed"
            + (f", ~{size_text(self.bytes_per_release)} each." if self.bytes_per_release else ".")]
        needed = self.needed()
        if needed is not None:
            parts.append(f"{self.to_go:,} release messages are still to go: ~{size_text(needed)} in all, so Redis "
                         f"needs a maxmemory of at least ~{redis_size(needed / self.share)} (more for next month's "
                         "dump).")
        parts.append("Raise it (DATAGET_REDIS_MAXMEMORY for the local stack; CONFIG SET maxmemory on a running "
                     "Redis), then start the worker again: the batch in hand was not committed, so it goes in then.")
        return " ".join(parts)


class MemoryGuard:
    """Checks the index's Redis before each index write, for one worker process."""

    def __init__(self, redis: Redis, address: str, share: float, indexed_releases: Callable[[], Awaitable[int]],
                 progress: Progress | None = None, confirm_after_s: float = CONFIRM_AFTER_S) -> None:
        self._redis = redis
        self._address = address
        self._share = share
        self._indexed_releases = indexed_releases
        self._progress = progress
        self._confirm_after_s = confirm_after_s
        # (used memory, releases indexed) at the first check: what this process adds is measured from there.
        self._start: tuple[int, int] | None = None

    async def check(self) -> None:
        """Raise EvictingRedis or IndexMemoryFull rather than let a write through that Redis could not hold."""
        memory = await redis_memory(self._redis)
        check_policy(memory, self._address)
        if self._start is None:
            self._start = (memory.used, await self._indexed_releases())
        if memory.used < memory.limit(self._share):
            return
        await asyncio.sleep(self._confirm_after_s)
        memory = await redis_memory(self._redis)
        if memory.used >= memory.limit(self._share):
            raise await self.full(memory)

    async def full(self, memory: RedisMemory | None = None) -> IndexMemoryFull:
        """The error that stops the worker, with the numbers."""
        memory = memory or await redis_memory(self._redis)
        releases = await self._indexed_releases()
        start_used, start_releases = self._start or (memory.used, releases)
        if releases - start_releases >= MIN_MEASURED_RELEASES:
            per_release: float | None = (memory.used - start_used) / (releases - start_releases)
        else:
            per_release = memory.used / releases if releases else None
        processed = to_go = None
        if self._progress is not None:
            try:
                processed, to_go = await self._progress()
            except Exception:  # the projection is a hint; the worker has to stop either way
                log.warning("could not read the consumer group's progress for the projection", exc_info=True)
        fill = Fill(self._address, memory, self._share, releases, per_release, processed, to_go)
        return IndexMemoryFull(fill.message())


class IndexWriter(Protocol):
    async def apply_releases(self, batch: Sequence[tuple[int, Release | None]]) -> None: ...

    async def apply_masters(self, batch: Sequence[tuple[int, Master | None]]) -> None: ...


class GuardedIndex:
    """An index writer whose writes wait for the guard's check; Redis' own OOM refusal (a batch that went past
    maxmemory between checks) becomes IndexMemoryFull too. Redis refuses a script's writes only when it was past
    maxmemory as the script began, and then at its first write, so each script call is whole or not at all."""

    def __init__(self, index: IndexWriter, guard: MemoryGuard) -> None:
        self._index = index
        self._guard = guard

    async def apply_releases(self, batch: Sequence[tuple[int, Release | None]]) -> None:
        await self._guard.check()
        try:
            await self._index.apply_releases(batch)
        except OutOfMemoryError:
            raise await self._guard.full() from None

    async def apply_masters(self, batch: Sequence[tuple[int, Master | None]]) -> None:
        await self._guard.check()
        try:
            await self._index.apply_masters(batch)
        except OutOfMemoryError:
            raise await self._guard.full() from None
