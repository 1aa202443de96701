"""Index versions: each a Redis key namespace; one key names the active one, so switching is one atomic SET."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from sinks.facet_index import FacetIndex


def active_key(base: str) -> str:
    return f"{base}:active"


def version_namespace(base: str, version: int) -> str:
    return f"{base}:v{version}"


async def active_index_namespace(redis: Redis, base: str) -> str:
    """The namespace of the active index version; version 0 until another has been activated."""
    value = await redis.get(active_key(base))
    if value is None:
        return version_namespace(base, 0)
    return value.decode() if isinstance(value, bytes) else str(value)


async def new_index_namespace(redis: Redis, base: str) -> str:
    """A namespace no version has used yet (a counter, so an aborted reindex never collides)."""
    return version_namespace(base, int(await redis.incr(f"{base}:version_seq")))


async def activate(redis: Redis, base: str, namespace: str) -> str:
    """Make namespace the active version; returns the one it replaced."""
    previous = await redis.set(active_key(base), namespace, get=True)
    if previous is None:
        return version_namespace(base, 0)
    return previous.decode() if isinstance(previous, bytes) else str(previous)


class ActiveIndexWriter:
    """Index writes that follow the active version, so the live worker keeps writing across a reindex switch."""

    def __init__(self, redis: Redis, base: str) -> None:
        self._redis = redis
        self._base = base

    async def _current(self) -> FacetIndex:
        return FacetIndex(self._redis, await active_index_namespace(self._redis, self._base))

    async def apply_releases(self, batch: Sequence[tuple[int, dict[str, Any] | None]]) -> None:
        await (await self._current()).apply_releases(batch)

    async def apply_masters(self, batch: Sequence[tuple[int, dict[str, Any] | None]]) -> None:
        await (await self._current()).apply_masters(batch)
