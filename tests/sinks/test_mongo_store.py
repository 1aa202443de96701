"""MongoStore against the real FerretDB: idempotent batches, tombstones, isolation of refused records, down store."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import orjson
import pymongo
import pytest

from dataget.stack.services import ferretdb_service
from runtime.settings import Settings
from sinks.mongo_store import SPLIT_MIN, MongoStore, StoreUnavailable, WriteFailure, record_of, to_document
from sinks.record_packing import RecordPacker

pytestmark = pytest.mark.stack


@pytest.fixture
def db(isolated_settings: Settings) -> Iterator[pymongo.database.Database]:
    client = pymongo.MongoClient(isolated_settings.mongo_url, serverSelectionTimeoutMS=5000)
    try:
        yield client[isolated_settings.mongo_db]
    finally:
        client.close()


def release(rid: int, title: str = "Title") -> dict:
    return {"id": rid, "title": title, "genres": ["Electronic"], "year": 1998,
            "tracklist": [{"position": "A1", "title": "T", "artists": [], "sub_tracks": []}],
            "videos": [{"src": "https://www.youtube.com/watch?v=abcdefghijk", "youtube_id": "abcdefghijk"}]}


def stored(db: pymongo.database.Database, entity: str = "releases") -> dict[int, dict]:
    return {d["id"]: d for d in db[entity].find()}


def test_to_document_keys_by_the_id_as_a_string() -> None:
    assert to_document(7, {"id": 7, "title": "x"}) == {"_id": "7", "id": 7, "title": "x"}


def test_a_record_reads_back_the_same_either_way_it_is_stored() -> None:
    packer = RecordPacker.load()
    plain, packed = to_document(7, release(7)), to_document(7, release(7), packer.pack("releases", release(7)))
    assert set(packed) == {"_id", "id", "zstd"} and packed["id"] == 7
    assert record_of(plain, packer) == record_of(packed, packer) == release(7)


def test_compressed_documents_are_written_replaced_and_deleted(db) -> None:
    packer = RecordPacker.load()
    store = MongoStore(db, packer=packer)
    assert store.write_batch("releases", [(1, release(1)), (2, release(2))]) == []
    assert store.write_batch("releases", [(1, release(1, "New")), (2, None)]) == []
    docs = list(db.releases.find())
    assert [record_of(d, packer) for d in docs] == [release(1, "New")]
    # A tenth of the plain document's size or so: the point of storing it this way.
    assert len(docs[0]["zstd"]) < len(orjson.dumps(release(1, "New")))


def test_insert_then_replay_is_idempotent(db) -> None:
    store = MongoStore(db)
    items = [(i, release(i)) for i in (1, 2, 3)]
    assert store.write_batch("releases", items) == []
    first = stored(db)
    assert store.write_batch("releases", items) == []
    assert stored(db) == first
    assert first[2] == to_document(2, release(2))


def test_update_tombstone_and_last_write_wins(db) -> None:
    store = MongoStore(db)
    store.write_batch("masters", [(i, release(i)) for i in (1, 2, 3, 4)])
    failures = store.write_batch("masters", [
        (1, release(1, "new title")),   # update of an existing document
        (2, None),                      # tombstone
        (3, release(3, "first")), (3, None), (3, release(3, "last")),  # last write wins
        (4, release(4, "gone")), (4, None),
        (5, None),                      # tombstone of something never stored: no-op
    ])
    assert failures == []
    docs = stored(db, "masters")
    assert sorted(docs) == [1, 3]
    assert docs[1]["title"] == "new title"
    assert docs[3]["title"] == "last"


def test_refused_record_is_isolated(db) -> None:
    store = MongoStore(db)
    bad = release(11)
    bad["tracklist"] = [[1, 2]]  # FerretDB refuses nested arrays
    new_items = [(10, release(10)), (11, bad), (12, release(12))]
    failures = store.write_batch("releases", new_items)
    assert [f.id for f in failures] == [11]
    assert isinstance(failures[0], WriteFailure) and failures[0].reason
    assert sorted(stored(db)) == [10, 12]
    # The same on the replace path (documents that already exist).
    replay = [(10, release(10, "v2")), (11, bad), (12, release(12, "v2"))]
    assert [f.id for f in store.write_batch("releases", replay)] == [11]
    assert {d["title"] for d in stored(db).values()} == {"v2"}


def test_big_batch_is_inserted_in_parallel_slices_with_the_same_outcome(db) -> None:
    store = MongoStore(db, writers=2)
    ids = range(1, 3 * SPLIT_MIN)  # two slices
    bad = release(0)
    bad["tracklist"] = [[1, 2]]  # FerretDB refuses nested arrays
    store.write_batch("releases", [(i, release(i)) for i in ids if i % 2])  # half exist before the big batch
    batch = [(i, release(i, "v2")) for i in ids]
    batch[3], batch[-4] = (4, bad), (146, bad)  # a refused new record in each slice
    failures = store.write_batch("releases", batch)
    assert sorted(f.id for f in failures) == [4, 146]
    docs = stored(db)
    assert sorted(docs) == sorted(set(ids) - {4, 146})
    assert {d["title"] for d in docs.values()} == {"v2"}


def test_updates_and_tombstones_find_their_document_through_the_id_index(db, isolated_settings: Settings) -> None:
    """SQLite's plan of the statements FerretDB's SQLite backend runs for a find, replace and delete by `_id`
    (internal/backends/sqlite/collection.go), read from the local stack's database file: a search of the unique
    `_id` index, not a scan of every stored document."""
    if isolated_settings.external_stack:
        pytest.skip("the database files of external servers are out of reach")
    store = MongoStore(db)
    store.write_batch("releases", [(i, release(i)) for i in range(1, 6)])
    assert store.write_batch("releases", [(1, release(1, "changed")), (2, None), (3, release(3))]) == []
    assert sorted(stored(db)) == [1, 3, 4, 5]

    data = ferretdb_service(isolated_settings.mongo_url).data_dir(Path(isolated_settings.stack_dir).resolve())
    with closing(sqlite3.connect(f"file:{data / db.name}.sqlite?mode=ro", uri=True)) as sqlite:
        (table,) = sqlite.execute("SELECT table_name FROM _ferretdb_collections WHERE name = 'releases'").fetchone()
        for statement, args in [
            (f"SELECT _ferretdb_sjson FROM \"{table}\" WHERE _ferretdb_sjson->'$._id' = ?", ['"1"']),
            (f"UPDATE \"{table}\" SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->'$._id' = ?", ["{}", '"1"']),
            (f"DELETE FROM \"{table}\" WHERE _ferretdb_sjson->'$._id' IN (?)", ['"2"']),
        ]:
            plan = [row[3] for row in sqlite.execute(f"EXPLAIN QUERY PLAN {statement}", args)]
            assert plan == [f"SEARCH {table} USING INDEX {table}__id_ (<expr>=?)"], statement


def test_unknown_entity_is_a_bug() -> None:
    with pytest.raises(ValueError):
        MongoStore(pymongo.MongoClient(connect=False)["x"]).write_batch("users", [])


def test_down_store_raises_store_unavailable() -> None:
    # Nothing listens on port 9 (discard) on loopback here.
    client = pymongo.MongoClient("mongodb://127.0.0.1:9/", serverSelectionTimeoutMS=300, connect=False)
    with pytest.raises(StoreUnavailable):
        MongoStore(client["down"]).write_batch("releases", [(1, release(1))])
    with pytest.raises(StoreUnavailable):  # from a parallel slice too
        MongoStore(client["down"]).write_batch("releases", [(i, release(i)) for i in range(1, 3 * SPLIT_MIN)])
