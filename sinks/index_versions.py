"""Index versions: each a Redis key namespace; one key names the active one, so switching is one atomic SET."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from schemas.query import FacetQuery, FacetValue, QueryResult
from schemas.records import Master, Release
from sinks.facet_index import FacetIndex
from sinks.redis_text import redis_text


def active_key(base: str) -> str:
    return f"{base}:active"


def version_namespace(base: str, version: int) -> str:
    return f"{base}:v{version}"


async def active_index_namespace(redis: Redis, base: str) -> str:
    """The namespace of the active index version; version 0 until another has been activated."""
    value = await redis.get(active_key(base))
    if value is None:
        return version_namespace(base, 0)
    return redis_text(value)


async def new_index_namespace(redis: Redis, base: str) -> str:
    """A namespace no version has used yet (a counter, so an aborted reindex never collides)."""
    return version_namespace(base, int(await redis.incr(f"{base}:version_seq")))


async def activate(redis: Redis, base: str, namespace: str) -> str:
    """Make namespace the active version; returns the one it replaced."""
    previous = await redis.set(active_key(base), namespace, get=True)
    if previous is None:
        return version_namespace(base, 0)
    return previous.decode() if isinstance(previous, bytes) else str(previous)


async def activate_confirmed(redis: Redis, base: str, namespace: str, replicas: int,
                             timeout_ms: int) -> tuple[str, int]:
    """activate, then wait up to timeout_ms for `replicas` read replicas to have the switch too; returns the
    version replaced and how many replicas confirmed."""
    # WAIT counts the writes of its own connection: the switch and the wait go over one.
    async with redis.client() as connection:
        previous = await activate(connection, base, namespace)
        confirmed = int(await connection.wait(replicas, timeout_ms)) if replicas else 0
    return previous, confirmed


class ActiveIndex:
    """The active index version, looked up on every use, so a reindex switch shows on the next query or batch
    (the site reads through it, and the live worker keeps writing across a switch); a query looks it up inside its
    script. One FacetIndex per namespace: building one hashes its ~10 KB of scripts. Versions are few."""

    def __init__(self, redis: Redis, base: str) -> None:
        self._redis = redis
        self._base = base
        self._indexes: dict[str, FacetIndex] = {}

    async def current(self) -> FacetIndex:
        return self._index(await active_index_namespace(self._redis, self._base))

    def _index(self, namespace: str) -> FacetIndex:
        index = self._indexes.get(namespace)
        if index is None:
            index = self._indexes[namespace] = FacetIndex(self._redis, namespace)
        return index

    async def query(self, query: FacetQuery) -> QueryResult:
        """The active version is resolved inside the query command, not by a GET before it."""
        return await self._index(version_namespace(self._base, 0)).query(query, active_key(self._base))

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        return await (await self.current()).facet_values(facet, prefix, limit)

    async def facet_counts(self, facet: str, within: FacetQuery, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        """Like query, the active version is resolved inside the script."""
        return await self._index(version_namespace(self._base, 0)).facet_counts(
            facet, within, prefix, limit, active_key(self._base))

    async def generation(self) -> str:
        return await self._index(version_namespace(self._base, 0)).generation(active_key(self._base))

    async def apply_releases(self, batch: Sequence[tuple[int, Release | None]]) -> None:
        await (await self.current()).apply_releases(batch)

    async def apply_masters(self, batch: Sequence[tuple[int, Master | None]]) -> None:
        await (await self.current()).apply_masters(batch)
