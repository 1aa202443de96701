"""Idempotent batch writes of Discogs records to MongoDB / FerretDB (one collection per entity, `_id` = Discogs id)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, cast

from bson.binary import Binary
from bson.errors import BSONError
from pymongo import DeleteOne, ReplaceOne
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError

from schemas.records import Record
from schemas.topics import ENTITIES
from sinks.record_packing import RecordPacker

DUPLICATE_KEY = 11000
ZSTD_FIELD = "zstd"
# Replaces per update command; see MongoStore for why FerretDB needs well under 100.
REPLACE_CHUNK = 40
# Inserts of one batch run on this many connections at once (see MongoStore), each with at least SPLIT_MIN docs.
WRITERS = 2
SPLIT_MIN = 50


class StoreUnavailable(RuntimeError):
    """The database does not answer (connection refused/lost, no server selectable): retry later, never skip."""


@dataclass(frozen=True)
class WriteFailure:
    """A record the database refused (e.g. a FerretDB validation error); it belongs in the dead-letter topic."""

    id: int
    reason: str


def document_id(record_id: int) -> str:
    """The `_id` of a record's document: its Discogs id as a decimal string.

    FerretDB v1 pushes an `_id` equality down to SQLite, where the collection's `_id` index answers it (see
    stack/ferretdb), only for strings and ObjectIds (backends/sqlite/collection.go); with an integer `_id` every
    find, replace and delete by id decodes the whole collection in Go. On MongoDB a string `_id` costs the same as
    an int. The document keeps the integer in `id`.
    """
    return str(record_id)


def to_document(record_id: int, record: Record, packed: bytes | None = None) -> dict[str, Any]:
    """The stored document: the record (with its integer `id`) under `_id` = document_id.

    Compressed, `packed` (the record as RecordPacker packs it) is one zstd field beside `id`: FerretDB on SQLite
    stores a release's document in ~3x the bytes of its JSON (a type annotation per field of every track and
    credit), ~13 KB, so the whole catalogue would take ~200 GB; compressed, ~33 GB (bench/storage.py). MongoDB
    compresses its blocks itself, and keeps documents queryable, so it stores them plain.
    """
    if packed is not None:
        return {"_id": document_id(record_id), "id": record_id, ZSTD_FIELD: Binary(packed)}
    return {"_id": document_id(record_id), **record}


def record_of(doc: dict[str, Any], packer: RecordPacker) -> Record:
    """The record a document holds, either way it was stored."""
    packed = doc.get(ZSTD_FIELD)
    if packed is not None:
        return packer.unpack(packed)
    # A plain document is the record (as to_document wrote it) plus its `_id`.
    return cast(Record, {k: v for k, v in doc.items() if k != "_id"})


class MongoStore:
    """Applies batches of (id, record | None) to `releases`, `masters`, `artists`, `labels`.

    Write pattern: insert the batch's records (insert_many, ordered=False), replace (ReplaceOne, upsert) only those
    that come back as E11000 duplicates, and delete each tombstone with a DeleteOne by `_id`. So first loads and new
    records go at insert speed, and only records already stored pay for a replace. Why, on FerretDB (on MongoDB
    every step is indexed and cheap anyway):
    - FerretDB batches inserts (100 documents per SQL statement) but runs every update and delete as a find by
      `_id` plus a statement and transaction of its own. Those go through the collection's `_id` index, so their
      cost does not grow with the collection, but a replace still costs about ten inserts or more (a replace of an
      unchanged document skips the write and costs less).
    - A batch's inserts go out as WRITERS commands at once: FerretDB decodes and converts documents on each
      connection's goroutine and serialises only the SQLite write (a third writer adds nothing on two cores).
    - Deletes go one by one: an `_id` equality on a string is pushed down to SQLite (see document_id), `$in` is not.
    - Replaces go in chunks of REPLACE_CHUNK: FerretDB's update command keeps each statement's read cursor (a
      pooled SQLite connection, 100 per database) open until the whole command ends, so a bulk of ~100 replaces
      waits for a connection forever.
    """

    def __init__(self, db: Database, writers: int = WRITERS, packer: RecordPacker | None = None) -> None:
        """packer: store records compressed (to_document), else as plain documents."""
        self._db = db
        self._packer = packer
        self._writers = writers
        self._pool = ThreadPoolExecutor(writers, thread_name_prefix="mongo-insert")  # threads start on first use

    def collection(self, entity: str) -> Collection:
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}")
        return self._db[entity]

    def write_batch(self, entity: str, items: Sequence[tuple[int, Record | None]]) -> list[WriteFailure]:
        """Store records and delete tombstones; returns the records the database refused.

        Idempotent (replays and re-deliveries converge to the same state); for an id seen twice in the batch the
        last item wins. Raises StoreUnavailable when the database is down: then nothing is known to be written.
        """
        coll = self.collection(entity)
        latest = dict(items)  # later items overwrite earlier ones: last write wins
        deletes = [i for i, rec in latest.items() if rec is None]
        packer = self._packer
        docs = [to_document(i, rec, None if packer is None else packer.pack(entity, rec))
                for i, rec in latest.items() if rec is not None]
        try:
            if deletes:
                coll.bulk_write([DeleteOne({"_id": document_id(i)}) for i in deletes], ordered=False)
            return self._insert_parts(coll, docs)
        except ConnectionFailure as exc:  # includes AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc

    def _insert_parts(self, coll: Collection, docs: list[dict[str, Any]]) -> list[WriteFailure]:
        """_insert_or_replace on up to `writers` slices of docs at once (their ids are distinct)."""
        parts = min(self._writers, max(1, len(docs) // SPLIT_MIN))
        if parts == 1:
            return _insert_or_replace(coll, docs)
        size = -(-len(docs) // parts)
        futures = [self._pool.submit(_insert_or_replace, coll, docs[i:i + size]) for i in range(0, len(docs), size)]
        wait(futures)  # every slice settles before a failure propagates: a retry of the batch never races one
        return [failure for future in futures for failure in future.result()]


def _insert_or_replace(coll: Collection, docs: list[dict[str, Any]]) -> list[WriteFailure]:
    if not docs:
        return []
    try:
        coll.insert_many(docs, ordered=False)
        return []
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if not errors:  # e.g. only a write concern error: let the one-by-one path sort it out
            return _replace_each(coll, docs)
        existing = [docs[e["index"]] for e in errors if e.get("code") == DUPLICATE_KEY]
        refused = [WriteFailure(int(docs[e["index"]]["_id"]), _reason(e)) for e in errors
                   if e.get("code") != DUPLICATE_KEY]
        return refused + _replace(coll, existing)
    except ConnectionFailure:
        raise
    except (PyMongoError, BSONError, OverflowError, ValueError):
        # The whole command was refused (FerretDB validation, a too-large document, an int beyond int64):
        # isolate the culprit by writing one by one; the replacements are idempotent.
        return _replace_each(coll, docs)


def _replace(coll: Collection, docs: list[dict[str, Any]]) -> list[WriteFailure]:
    if not docs:
        return []
    failures = []
    for start in range(0, len(docs), REPLACE_CHUNK):
        chunk = docs[start:start + REPLACE_CHUNK]
        try:
            coll.bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in chunk], ordered=False)
        except ConnectionFailure:
            raise
        except (PyMongoError, BSONError, OverflowError, ValueError):
            # FerretDB stops a bulk update at its first failure (ignoring ordered=False): redo them one by one.
            failures += _replace_each(coll, chunk)
    return failures


def _replace_each(coll: Collection, docs: Iterable[dict[str, Any]]) -> list[WriteFailure]:
    failures = []
    for doc in docs:
        try:
            coll.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        except ConnectionFailure:
            raise
        except (PyMongoError, BSONError, OverflowError, ValueError) as exc:
            failures.append(WriteFailure(int(doc["_id"]), f"{type(exc).__name__}: {exc}"))
    return failures


def _reason(write_error: dict[str, Any]) -> str:
    return f"code {write_error.get('code')}: {write_error.get('errmsg', '')}"
