"""Reads spread over the index's primary and replicas: least busy first, a failing replica sits out."""

from __future__ import annotations

import asyncio

import pytest
from redis import exceptions

from schemas.query import FacetQuery, FacetValue, QueryResult
from web.index_pool import REPLICA_REST_S, IndexPool, Member


class FakeIndex:
    def __init__(self, releases: int, error: Exception | None = None) -> None:
        self.releases = releases
        self.error = error
        self.calls = 0
        self.lookups = 0
        self.gate: asyncio.Event | None = None

    async def query(self, query: FacetQuery) -> QueryResult:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return QueryResult(releases=self.releases, videos=0, sample=[], generation=f"v@{self.releases}")

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        self.lookups += 1
        if self.error is not None:
            raise self.error
        return [FacetValue(value=f"{facet}-{self.releases}", releases=self.releases)]

    async def facet_counts(self, facet: str, within: FacetQuery, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        return await self.facet_values(facet, prefix, limit)

    async def generation(self) -> str:
        if self.error is not None:
            raise self.error
        return f"v@{self.releases}"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def pool(primary: FakeIndex, *replicas: FakeIndex, clock: Clock | None = None) -> IndexPool:
    return IndexPool(Member("primary:1", primary), [Member(f"replica:{n}", r) for n, r in enumerate(replicas)],
                     clock or Clock())


ROCK = FacetQuery({"genre": ("Rock",)})


async def test_each_read_goes_to_the_member_with_fewest_in_flight() -> None:
    primary, replica = FakeIndex(1), FakeIndex(2)
    primary.gate = asyncio.Event()
    index = pool(primary, replica)
    held = asyncio.create_task(index.query(ROCK))  # ties go to the primary: it now has one in flight
    await asyncio.sleep(0)
    assert (await index.query(ROCK)).releases == 2
    assert (await index.facet_values("genre"))[0].releases == 2
    primary.gate.set()
    assert (await held).releases == 1
    assert (await index.query(ROCK)).releases == 1  # nothing in flight: the primary again


async def test_an_unavailable_replica_sits_out_and_the_primary_answers() -> None:
    clock = Clock()
    primary, replica = FakeIndex(1), FakeIndex(2, exceptions.ConnectionError("refused"))
    primary.gate = asyncio.Event()
    index = pool(primary, replica, clock=clock)
    held = asyncio.create_task(index.query(ROCK))
    await asyncio.sleep(0)
    primary.gate.set()
    assert (await index.query(ROCK)).releases == 1  # tried on the replica, answered by the primary
    assert replica.calls == 1
    await held
    primary.gate = asyncio.Event()
    held = asyncio.create_task(index.query(ROCK))
    await asyncio.sleep(0)
    primary.gate.set()
    await index.query(ROCK)
    assert replica.calls == 1  # resting, although the primary was busy
    await held
    clock.now += REPLICA_REST_S
    replica.error = None
    primary.gate = asyncio.Event()
    held = asyncio.create_task(index.query(ROCK))
    await asyncio.sleep(0)
    assert (await index.query(ROCK)).releases == 2  # back after its rest
    primary.gate.set()
    await held


async def with_busy_primary(index: IndexPool, primary: FakeIndex) -> list[FacetValue]:
    """facet_values while the primary holds a read, so the replica is picked."""
    primary.gate = asyncio.Event()
    held = asyncio.create_task(index.query(ROCK))
    await asyncio.sleep(0)
    try:
        return await index.facet_values("genre")
    finally:
        primary.gate.set()
        await held


@pytest.mark.parametrize("error", [exceptions.MasterDownError("syncing"), exceptions.ReadOnlyError("read only"),
                                   exceptions.BusyLoadingError("loading"), exceptions.TimeoutError("slow")])
async def test_replica_errors_that_mean_not_now_fall_back(error: Exception) -> None:
    primary, replica = FakeIndex(1), FakeIndex(2, error)
    assert (await with_busy_primary(pool(primary, replica), primary))[0].releases == 1
    assert (replica.lookups, primary.lookups) == (1, 1)  # tried on the replica, answered by the primary


async def test_other_errors_are_the_reads_own_and_reach_the_caller() -> None:
    primary = FakeIndex(1)
    with pytest.raises(ValueError, match="bad facet"):
        await with_busy_primary(pool(primary, FakeIndex(2, ValueError("bad facet"))), primary)


async def test_a_failing_primary_fails_the_read() -> None:
    with pytest.raises(exceptions.ConnectionError):
        await pool(FakeIndex(1, exceptions.ConnectionError("down"))).query(ROCK)


async def test_counts_and_generations_are_reads_too() -> None:
    primary, replica = FakeIndex(1), FakeIndex(2, exceptions.ConnectionError("refused"))
    primary.gate = asyncio.Event()
    index = pool(primary, replica)
    held = asyncio.create_task(index.query(ROCK))  # the primary is busy: the next reads try the replica
    await asyncio.sleep(0)
    assert (await index.facet_counts("style", ROCK))[0].releases == 1  # the failing replica handed back
    assert await index.generation() == "v@1"
    primary.gate.set()
    await held
