"""The site's reads spread over the index's Redis primary and its read replicas.

Redis runs a query on one core, so one server caps the site's query rate whatever the machine has. Replicas
(each `replica-read-only no`, since a query writes its temporary bitmaps and cached result locally, and
`replica-serve-stale-data no`, so a replica still syncing refuses rather than answers from half a copy) let more cores
answer. Each read goes to the member with the fewest reads in flight. A replica that fails with a connection or
replication error sits out for a while and the read runs on the primary: a replica never fails a request the primary
can answer. A replica serves what the primary had a moment ago; the active index version switches there in the same
order as on the primary, so a query never meets half an index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from redis import exceptions

from schemas.query import FacetQuery, FacetValue, QueryResult
from web.ports import ReleaseIndex

log = logging.getLogger(__name__)

# How long a failed replica sits out before it is tried again.
REPLICA_REST_S = 5.0
# Errors saying the replica can't answer now (down, loading, syncing, read-only), not that the read is wrong.
UNAVAILABLE = (exceptions.ConnectionError, exceptions.TimeoutError, exceptions.MasterDownError,
               exceptions.ReadOnlyError)

T = TypeVar("T")


@dataclass
class Member:
    name: str  # for logs: host:port, never the URL (it may hold a password)
    index: ReleaseIndex
    in_flight: int = 0
    resting_until: float = 0.0


class IndexPool:
    """A ReleaseIndex over the primary's index and its replicas' (same namespace, same index versions)."""

    def __init__(self, primary: Member, replicas: Sequence[Member],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._primary = primary
        self._members = [primary, *replicas]
        self._clock = clock

    def pick(self) -> Member:
        """The member with the fewest reads in flight, resting replicas left out; ties go to the first listed."""
        now = self._clock()
        ready = [m for m in self._members if m is self._primary or m.resting_until <= now]
        return min(ready, key=lambda m: m.in_flight)

    async def _read(self, call: Callable[[ReleaseIndex], Awaitable[T]]) -> T:
        member = self.pick()
        try:
            return await self._on(member, call)
        except UNAVAILABLE as error:
            if member is self._primary:
                raise
            member.resting_until = self._clock() + REPLICA_REST_S
            hint = " (a replica needs replica-read-only no)" if isinstance(error, exceptions.ReadOnlyError) else ""
            log.warning("index replica %s unavailable (%s: %s)%s; reading from the primary for %.0f s",
                        member.name, type(error).__name__, error, hint, REPLICA_REST_S)
        return await self._on(self._primary, call)

    @staticmethod
    async def _on(member: Member, call: Callable[[ReleaseIndex], Awaitable[T]]) -> T:
        member.in_flight += 1
        try:
            return await call(member.index)
        finally:
            member.in_flight -= 1

    async def query(self, query: FacetQuery) -> QueryResult:
        return await self._read(lambda index: index.query(query))

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        return await self._read(lambda index: index.facet_values(facet, prefix, limit))

    async def facet_counts(self, facet: str, within: FacetQuery, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        return await self._read(lambda index: index.facet_counts(facet, within, prefix, limit))

    async def generation(self) -> str:
        return await self._read(lambda index: index.generation())
