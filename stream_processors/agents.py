"""The indexer: one faust agent per entity topic, each a thin loop over `process_batch` (testable without a broker).

A batch is decoded, then written to Mongo and applied to the Redis facet index (releases, masters) at once. Records that
cannot be decoded or stored go to the dead-letter topic; a store that is down makes the agent re-run the whole
batch until it is back (faust would ack a batch whose agent raised, i.e. silently skip it). Every write is
idempotent, so re-running a batch, or re-delivery after a crash, is harmless. A Redis that cannot hold more of the
index (sinks/redis_memory.py) stops the worker without acking the batch in hand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import NoReturn, Protocol, cast

import faust
import orjson
import redis.exceptions
from faust.types import EventT, StreamT

from schemas.messages import DeadLetterSource, dead_letter, dead_letter_key
from schemas.query import IndexFormatError
from schemas.records import Master, Record, Release
from schemas.topics import DUMP_VERSION_HEADER, ENTITIES, Topics
from sinks.mongo_store import StoreUnavailable, WriteFailure
from sinks.redis_memory import IndexMemoryError
from stream_processors.retry import retry_forever

log = logging.getLogger(__name__)

DLQ_SOURCE: DeadLetterSource = "indexer"
# "A store is down": the batch is re-run until it is back, never split into dead letters.
DOWN_ERRORS: tuple[type[BaseException], ...] = (
    StoreUnavailable, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError,
)
# "No retry helps": the index's Redis is full or would evict, or the index has an older key layout than the index's
# writes write (every record would be dead-lettered); the worker stops until an operator acts.
STOP_ERRORS: tuple[type[BaseException], ...] = (IndexMemoryError, IndexFormatError)

# (id, record | None = tombstone); the topic says which of the Record types it is.
Item = tuple[int, Record | None]


@dataclass(frozen=True)
class Message:
    """What a batch needs of a Kafka message."""

    key: bytes | None
    value: bytes | None
    headers: Mapping[str, bytes] = field(default_factory=dict)


class RecordStore(Protocol):
    def write_batch(self, entity: str, items: Sequence[Item]) -> list[WriteFailure]: ...


class DiscardStore:
    """The record store of a reindex worker, which only rebuilds the facet index."""

    def write_batch(self, entity: str, items: Sequence[Item]) -> list[WriteFailure]:
        return []


class Index(Protocol):
    async def apply_releases(self, batch: Sequence[tuple[int, Release | None]]) -> None: ...

    async def apply_masters(self, batch: Sequence[tuple[int, Master | None]]) -> None: ...


@dataclass(frozen=True)
class Deps:
    store: RecordStore
    # None: no facet index (e.g. tests of the Mongo path alone).
    index: Index | None
    # (key, JSON value) -> the dead-letter topic; returns once Kafka has it.
    send_dead_letter: Callable[[str, bytes], Awaitable[None]]
    # Ends the process on a STOP_ERRORS error without committing (anything else would let faust ack the batch).
    stop: Callable[[BaseException], NoReturn]


@dataclass(frozen=True)
class DeadLetter:
    id: int | None
    reason: str
    excerpt: str
    dump_version: str | None


@dataclass(frozen=True)
class BatchResult:
    written: int
    deleted: int
    dead_letters: list[DeadLetter]


def _dump_version(msg: Message) -> str | None:
    raw = msg.headers.get(DUMP_VERSION_HEADER)
    return raw.decode(errors="replace") if raw is not None else None


def _parse_id(raw: object) -> int | None:
    if isinstance(raw, bytes):
        raw = raw.decode(errors="replace")
    if isinstance(raw, str) and raw.strip().isdecimal():
        raw = int(raw)
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else None


def decode(msg: Message) -> Item | DeadLetter:
    """(id, record | None) from a message, or why it can't be stored."""
    key_id = _parse_id(msg.key)
    value = msg.value
    if value is None:
        if key_id is None:
            return DeadLetter(None, f"tombstone with invalid key {msg.key!r}", "", _dump_version(msg))
        return key_id, None

    def dead(reason: str) -> DeadLetter:
        # Only a dead letter needs the value as text (decoding every value took 2-8 us a record).
        return DeadLetter(key_id, reason, value.decode(errors="replace"), _dump_version(msg))

    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        return dead(f"undecodable JSON: {exc}")
    if not isinstance(record, dict):
        return dead(f"record is a JSON {type(record).__name__}, not an object")
    record_id = _parse_id(record.get("id"))
    if record_id is None or (key_id is not None and key_id != record_id):
        return dead(f"record id {record.get('id')!r} does not match key {msg.key!r}")
    # Producers publish Records; the store and the index read them defensively, field by field.
    return record_id, cast(Record, record)


async def _apply_index(entity: str, items: list[Item], deps: Deps) -> dict[int, str]:
    """Apply items to the facet index; returns {id: reason} for records it refused (isolated one by one)."""
    if deps.index is None or not items or entity not in ("releases", "masters"):
        return {}
    # The entity's topic decides the record type (decode checked only that it is an object with that id).
    apply = cast(Callable[[Sequence[Item]], Awaitable[None]],
                 deps.index.apply_releases if entity == "releases" else deps.index.apply_masters)
    try:
        await apply(items)
        return {}
    except (*DOWN_ERRORS, *STOP_ERRORS):
        raise
    except Exception:
        log.exception("facet index refused a %s batch; isolating the record", entity)
    refused = {}
    for item in items:
        try:
            await apply([item])
        except (*DOWN_ERRORS, *STOP_ERRORS):
            raise
        except Exception as exc:
            refused[item[0]] = f"facet index: {type(exc).__name__}: {exc}"
    return refused


async def _write_both(entity: str, items: list[Item], deps: Deps) -> dict[int, str]:
    """Write the store and the index at the same time (they are separate servers, so the batch costs the slower
    of the two, not their sum); returns {id: reason} of the records either refused.

    A record the store refused is taken out of the index again, so the index never offers what the store lacks.
    """
    # pymongo is blocking: keep faust's event loop (heartbeats, fetching) running meanwhile.
    failures, index_refused = await asyncio.gather(
        asyncio.to_thread(deps.store.write_batch, entity, items), _apply_index(entity, items, deps),
        return_exceptions=True)  # both finish before a retry re-runs the batch
    if isinstance(failures, BaseException):
        raise failures
    if isinstance(index_refused, BaseException):
        raise index_refused
    refused = {f.id: f.reason for f in failures}
    taken_out: list[Item] = [(record_id, None) for record_id in refused if record_id not in index_refused]
    index_refused.update(await _apply_index(entity, taken_out, deps))
    return {**index_refused, **refused}


async def process_batch(entity: str, messages: Sequence[Message], deps: Deps) -> BatchResult:
    """Store one batch of an entity topic. Raises only when a store (or Kafka, for dead letters) is down."""
    latest: dict[int, Record | None] = {}
    versions: dict[int, str | None] = {}
    dead: list[DeadLetter] = []
    for msg in messages:
        decoded = decode(msg)
        if isinstance(decoded, DeadLetter):
            dead.append(decoded)
            continue
        record_id, record = decoded
        latest[record_id] = record  # last write wins
        versions[record_id] = _dump_version(msg)

    items = list(latest.items())
    refused = await _write_both(entity, items, deps)
    stored = [(i, rec) for i, rec in items if i not in refused]

    for record_id, reason in refused.items():
        record = latest.get(record_id)
        dead.append(DeadLetter(record_id, reason, orjson.dumps(record).decode() if record else "",
                               versions.get(record_id)))
    for letter in dead:
        value = dead_letter(DLQ_SOURCE, entity, letter.id, letter.reason, letter.excerpt, letter.dump_version)
        await deps.send_dead_letter(dead_letter_key(entity, letter.id), orjson.dumps(value))
    if dead:
        log.warning("%s: %d record(s) dead-lettered, first: %s", entity, len(dead), dead[0].reason)
    deletes = sum(1 for _, rec in stored if rec is None)
    return BatchResult(written=len(stored) - deletes, deleted=deletes, dead_letters=dead)


def to_message(event: EventT) -> Message:
    return Message(key=event.key, value=event.value, headers=dict(event.headers or {}))


AgentFun = Callable[[StreamT], Awaitable[None]]


def make_agent(entity: str, deps: Deps, batch_size: int, within: float) -> AgentFun:
    async def index_entity(stream: StreamT) -> None:
        # faust's StreamT declares take() only; the faust.Stream an agent is given has take_events() too.
        async for events in stream.take_events(batch_size, within=within):  # type: ignore[attr-defined]
            messages = [to_message(e) for e in events]
            # Never raise out of here: faust would ack the batch and move on.
            try:
                await retry_forever(partial(process_batch, entity, messages, deps), f"{entity} batch",
                                    expected=DOWN_ERRORS, fatal=STOP_ERRORS)
            except STOP_ERRORS as exc:
                deps.stop(exc)

    return index_entity


def register_agents(app: faust.App, topics: Topics, deps: Deps, batch_size: int, within: float) -> None:
    for entity in ENTITIES:
        topic = app.topic(topics.entity(entity), key_serializer="raw", value_serializer="raw")
        # concurrency=1: faust's commit with concurrency>1 can skip in-flight messages.
        app.agent(topic, name=f"index-{entity}", concurrency=1)(make_agent(entity, deps, batch_size, within))
