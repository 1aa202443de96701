"""process_batch with a fake store and index: decoding, dead letters, last-write-wins, down stores; the backoff."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from types import SimpleNamespace
from typing import NoReturn

import orjson
import pytest
import redis.exceptions

from schemas.query import IndexFormatError
from sinks.mongo_store import StoreUnavailable, WriteFailure
from sinks.redis_memory import IndexMemoryFull
from stream_processors.agents import Deps, Message, decode, make_agent, process_batch
from stream_processors.retry import Backoff, retry_forever

Item = tuple[int, dict | None]


class FakeStore:
    def __init__(self, refuse: set[int] = frozenset(), down_times: int = 0) -> None:
        self.docs: dict[int, dict] = {}
        self.refuse = refuse
        self.down_times = down_times

    def write_batch(self, entity: str, items: Sequence[Item]) -> list[WriteFailure]:
        if self.down_times:
            self.down_times -= 1
            raise StoreUnavailable("connection refused")
        failures = []
        for rid, rec in dict(items).items():
            if rid in self.refuse:
                failures.append(WriteFailure(rid, "validation"))
            elif rec is None:
                self.docs.pop(rid, None)
            else:
                self.docs[rid] = rec
        return failures


class FakeIndex:
    def __init__(self, poison: int | None = None, down_times: int = 0, fatal: Exception | None = None) -> None:
        self.releases: dict[int, dict | None] = {}
        self.masters: dict[int, dict | None] = {}
        self.poison = poison
        self.down_times = down_times
        self.fatal = fatal
        self.calls = 0

    async def _apply(self, target: dict, batch: Sequence[Item]) -> None:
        self.calls += 1
        if self.fatal:
            raise self.fatal
        if self.down_times:
            self.down_times -= 1
            raise redis.exceptions.ConnectionError("redis down")
        if any(rid == self.poison for rid, _ in batch):
            raise ValueError("bad facet")
        target.update(batch)

    async def apply_releases(self, batch: Sequence[Item]) -> None:
        await self._apply(self.releases, batch)

    async def apply_masters(self, batch: Sequence[Item]) -> None:
        await self._apply(self.masters, batch)


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def __call__(self, key: str, value: bytes) -> None:
        self.sent.append((key, orjson.loads(value)))


def msg(rid: int | str | None, record: object = ..., version: str = "20260301") -> Message:
    value = None if record is None else orjson.dumps({"id": rid, "title": "t"} if record is ... else record)
    key = None if rid is None else str(rid).encode()
    return Message(key=key, value=value, headers={"dump_version": version.encode()})


class Stopped(Exception):
    """What the fake stop raises; the real one ends the process."""


def stop(exc: BaseException) -> NoReturn:
    raise Stopped(exc)


def deps(store: FakeStore | None = None, index: FakeIndex | None = None) -> tuple[Deps, DeadLetters]:
    dl = DeadLetters()
    return Deps(store=store or FakeStore(), index=index, send_dead_letter=dl, stop=stop), dl


def test_decode() -> None:
    assert decode(msg(5)) == (5, {"id": 5, "title": "t"})
    assert decode(msg(5, None)) == (5, None)
    assert decode(Message(None, b'{"id": 9}')) == (9, {"id": 9})  # key lost: the record's id
    for bad in (Message(b"5", b"{not json"), Message(b"5", b"[1]"), Message(b"5", b'{"id": 6}'),
                Message(b"x", None), Message(b"5", b'{"id": true}')):
        assert not isinstance(decode(bad), tuple), bad


async def test_batch_writes_store_and_index_last_write_wins() -> None:
    store, index = FakeStore(), FakeIndex()
    d, dl = deps(store, index)
    result = await process_batch("releases", [
        msg(1), msg(2), msg(2, {"id": 2, "title": "newer"}), msg(3), msg(3, None),
    ], d)
    assert store.docs == {1: {"id": 1, "title": "t"}, 2: {"id": 2, "title": "newer"}}
    assert index.releases == {1: {"id": 1, "title": "t"}, 2: {"id": 2, "title": "newer"}, 3: None}
    assert (result.written, result.deleted, dl.sent) == (2, 1, [])


async def test_only_releases_and_masters_reach_the_index() -> None:
    index = FakeIndex()
    d, _ = deps(index=index)
    await process_batch("artists", [msg(1)], d)
    await process_batch("masters", [msg(2)], d)
    assert index.releases == {} and list(index.masters) == [2]


async def test_bad_records_go_to_the_dlq_and_the_rest_is_stored() -> None:
    store, index = FakeStore(refuse={4}), FakeIndex(poison=5)
    d, dl = deps(store, index)
    await process_batch("releases", [msg(1), Message(b"2", b"\xff garbage", {"dump_version": b"v1"}),
                                     msg(4), msg(5), msg(6)], d)
    assert sorted(store.docs) == [1, 5, 6]  # 5 is in Mongo; only the index refused it
    assert {rid for rid, rec in index.releases.items() if rec is not None} == {1, 6}
    assert index.releases[4] is None  # refused by the store: taken out of the index again
    by_key = {k: v for k, v in dl.sent}
    assert sorted(by_key) == ["releases:2", "releases:4", "releases:5"]
    assert by_key["releases:2"]["dump_version"] == "v1" and "garbage" in by_key["releases:2"]["excerpt"]
    assert by_key["releases:4"]["reason"] == "validation"
    assert by_key["releases:5"]["entity"] == "releases" and by_key["releases:5"]["id"] == 5
    assert by_key["releases:4"]["dump_version"] == "20260301"


async def test_down_store_raises_for_a_whole_batch_retry() -> None:
    d, dl = deps(FakeStore(down_times=1))
    with pytest.raises(StoreUnavailable):
        await process_batch("releases", [msg(1)], d)
    d, dl = deps(index=FakeIndex(down_times=1))
    with pytest.raises(redis.exceptions.ConnectionError):
        await process_batch("releases", [msg(1)], d)
    assert dl.sent == []  # down is never a dead letter


async def test_retry_forever_backs_off_until_the_store_is_back() -> None:
    store, index = FakeStore(down_times=3), FakeIndex(down_times=2)
    d, _ = deps(store, index)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    result = await retry_forever(lambda: process_batch("releases", [msg(1), msg(2)], d), "batch",
                                 backoff=Backoff(initial=1, factor=2, maximum=5), sleep=sleep)
    assert result.written == 2 and sorted(index.releases) == [1, 2]
    assert slept == [1, 2, 4]  # both are written at once: the outages overlap, the store's lasts 3 tries


def test_backoff_delays_are_capped() -> None:
    assert list(itertools.islice(Backoff(0.5, 2, 3).delays(), 5)) == [0.5, 1, 2, 3, 3]  # capped


STOPPING = [IndexMemoryFull("the facet index is full"), IndexFormatError("index built with plain bitmaps")]


@pytest.mark.parametrize("fatal", STOPPING, ids=["full", "older layout"])
async def test_a_full_or_outdated_index_is_neither_dead_lettered_nor_retried(fatal: Exception) -> None:
    d, dl = deps(index=FakeIndex(fatal=fatal))
    with pytest.raises(type(fatal)):
        await process_batch("releases", [msg(1), msg(2)], d)
    assert dl.sent == []  # not isolated record by record into dead letters


class Stream:
    """What an agent reads: batches of events, each read counted."""

    def __init__(self, batches: list[list[Message]]) -> None:
        self.batches = batches
        self.taken = 0

    async def take_events(self, size: int, within: float) -> AsyncIterator[list[SimpleNamespace]]:
        for batch in self.batches:
            self.taken += 1
            yield [SimpleNamespace(key=m.key, value=m.value, headers=m.headers) for m in batch]


@pytest.mark.parametrize("fatal", STOPPING, ids=["full", "older layout"])
async def test_the_agent_stops_the_process_when_the_index_is_full_or_outdated(fatal: Exception) -> None:
    index = FakeIndex(fatal=fatal)
    d, _ = deps(index=index)
    stream = Stream([[msg(1)], [msg(2)]])
    with pytest.raises(Stopped) as stopped:
        await make_agent("releases", d, 500, 1.0)(stream)  # type: ignore[arg-type]
    assert stopped.value.args[0] is fatal
    # Stopped at the first try of the first batch: no retry, and the agent never returned to faust to ack it.
    assert (index.calls, stream.taken) == (1, 1)


async def test_retry_forever_raises_fatal_errors_at_once() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def full() -> None:
        raise IndexMemoryFull("full")

    with pytest.raises(IndexMemoryFull):
        await retry_forever(full, "batch", sleep=sleep, fatal=(IndexMemoryFull,))
    assert slept == []
