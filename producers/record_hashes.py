"""Content hash per published record, kept on disk so a newer dump publishes only what changed.

One SQLite file (WITHOUT ROWID, keyed by topic and id). Each row remembers the dump version that last
contained the id, so ids missing from a completed dump are found with one indexed scan, without holding
millions of ids in memory. The state of a topic also names the Kafka cluster and topic incarnation it describes:
against another one (a purged stack, a new broker, a recreated topic) it is dropped and everything is published.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS record_hashes (
    topic TEXT NOT NULL,
    id INTEGER NOT NULL,
    hash BLOB NOT NULL,
    seen TEXT NOT NULL,
    PRIMARY KEY (topic, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS topic_identity (
    topic TEXT PRIMARY KEY,
    identity TEXT NOT NULL
);
"""
# SQLite's limit on bound parameters is 32766; stay well below.
CHUNK = 5000


def content_hash(value: bytes) -> bytes:
    return hashlib.blake2b(value, digest_size=8).digest()


class RecordHashes:
    def __init__(self, path: Path, readonly: bool = False) -> None:
        """`readonly` for parser processes: they only ask what changed, the ingest process writes."""
        self.path = path
        self._readonly = readonly
        if readonly:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._db.execute("BEGIN")

    def adopt(self, topic: str, identity: str) -> bool:
        """Tie the topic's state to `identity` (Kafka cluster and topic id); True when the state described another
        one (or none, from before identities were kept) and was dropped, so every record is published again."""
        row = self._db.execute("SELECT identity FROM topic_identity WHERE topic = ?", (topic,)).fetchone()
        if row is not None and row[0] == identity:
            return False
        stale = row is not None or self.count(topic) > 0
        self._db.execute("DELETE FROM record_hashes WHERE topic = ?", (topic,))
        self._db.execute("INSERT INTO topic_identity (topic, identity) VALUES (?, ?) "
                         "ON CONFLICT (topic) DO UPDATE SET identity = excluded.identity", (topic, identity))
        self.commit()
        return stale

    def changed(self, topic: str, items: Sequence[tuple[int, bytes]]) -> list[int]:
        """Indexes of items (id, hash) whose hash differs from the stored one (or that are new)."""
        stored: dict[int, bytes] = {}
        for start in range(0, len(items), CHUNK):
            chunk = [item_id for item_id, _ in items[start:start + CHUNK]]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT id, hash FROM record_hashes WHERE topic = ? AND id IN ({marks})", [topic, *chunk]
            )
            stored.update(rows)
        return [i for i, (item_id, digest) in enumerate(items) if stored.get(item_id) != digest]

    def record(self, topic: str, dump_version: str, items: Iterable[tuple[int, bytes]]) -> None:
        """Remember hashes and that these ids were in dump_version (durable at the next commit)."""
        self._db.executemany(
            "INSERT INTO record_hashes (topic, id, hash, seen) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (topic, id) DO UPDATE SET hash = excluded.hash, seen = excluded.seen",
            ((topic, item_id, digest, dump_version) for item_id, digest in items),
        )

    def count(self, topic: str) -> int:
        count: int = self._db.execute("SELECT COUNT(*) FROM record_hashes WHERE topic = ?", (topic,)).fetchone()[0]
        return count

    def missing(self, topic: str, dump_version: str) -> Iterator[int]:
        """Ids known for the topic that the given dump did not contain."""
        rows = self._db.execute(
            "SELECT id FROM record_hashes WHERE topic = ? AND seen != ? ORDER BY id", (topic, dump_version)
        )
        for (item_id,) in rows:
            yield item_id

    def count_missing(self, topic: str, dump_version: str) -> int:
        count: int = self._db.execute(
            "SELECT COUNT(*) FROM record_hashes WHERE topic = ? AND seen != ?", (topic, dump_version)
        ).fetchone()[0]
        return count

    def forget(self, topic: str, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start:start + CHUNK])
            marks = ",".join("?" * len(chunk))
            self._db.execute(f"DELETE FROM record_hashes WHERE topic = ? AND id IN ({marks})", [topic, *chunk])

    def commit(self) -> None:
        """Make everything recorded so far durable; call only after Kafka acknowledged those messages."""
        self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def rollback(self) -> None:
        self._db.execute("ROLLBACK")
        self._db.execute("BEGIN")

    def close(self) -> None:
        if not self._readonly:
            self._db.execute("ROLLBACK")
        self._db.close()
