from __future__ import annotations

from pathlib import Path

from producers.record_hashes import RecordHashes, content_hash


def test_new_and_changed_records_are_reported_unchanged_ones_not(tmp_path: Path) -> None:
    hashes = RecordHashes(tmp_path / "h.sqlite")
    first = [(1, content_hash(b"a")), (2, content_hash(b"b"))]
    assert hashes.changed("t", first) == [0, 1]
    hashes.record("t", "20260101", first)
    hashes.commit()
    second = [(1, content_hash(b"a")), (2, content_hash(b"B")), (3, content_hash(b"c"))]
    assert hashes.changed("t", second) == [1, 2]
    # Other topics (test prefixes, entities) are separate.
    assert hashes.changed("other", first) == [0, 1]


def test_state_survives_a_restart_only_when_committed(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    hashes = RecordHashes(path)
    hashes.record("t", "v1", [(1, content_hash(b"a"))])
    hashes.commit()
    hashes.record("t", "v1", [(2, content_hash(b"b"))])  # never committed: Kafka did not acknowledge it
    hashes.close()
    reopened = RecordHashes(path)
    assert reopened.changed("t", [(1, content_hash(b"a")), (2, content_hash(b"b"))]) == [1]


def test_missing_lists_ids_absent_from_the_newer_dump(tmp_path: Path) -> None:
    hashes = RecordHashes(tmp_path / "h.sqlite")
    hashes.record("t", "v1", [(i, content_hash(b"x")) for i in range(1, 6)])
    hashes.record("t", "v2", [(i, content_hash(b"x")) for i in (1, 3, 5)])
    assert list(hashes.missing("t", "v2")) == [2, 4]
    assert hashes.count_missing("t", "v2") == 2 and hashes.count("t") == 5
    hashes.forget("t", [2, 4])
    assert hashes.count("t") == 3 and list(hashes.missing("t", "v2")) == []


def test_large_batches_exceed_sqlite_parameter_limits(tmp_path: Path) -> None:
    hashes = RecordHashes(tmp_path / "h.sqlite")
    items = [(i, content_hash(str(i).encode())) for i in range(40_000)]
    hashes.record("t", "v1", items)
    assert hashes.changed("t", items) == []


def test_the_state_of_a_topic_is_dropped_for_another_cluster_or_topic(tmp_path: Path) -> None:
    hashes = RecordHashes(tmp_path / "h.sqlite")
    assert not hashes.adopt("t", "cluster-a/topic-1")  # nothing known yet: nothing stale
    hashes.record("t", "20260101", [(1, b"h1"), (2, b"h2")])
    hashes.record("other", "20260101", [(1, b"h1")])
    hashes.commit()
    assert not hashes.adopt("t", "cluster-a/topic-1")
    assert hashes.count("t") == 2
    assert hashes.adopt("t", "cluster-a/topic-2")  # the topic was recreated
    assert hashes.count("t") == 0 and list(hashes.missing("t", "20260201")) == []
    assert hashes.count("other") == 1  # other topics keep theirs
    hashes.close()
    again = RecordHashes(tmp_path / "h.sqlite")  # the new identity is durable
    assert not again.adopt("t", "cluster-a/topic-2")
    again.close()


def test_state_from_before_identities_were_kept_is_dropped_once(tmp_path: Path) -> None:
    hashes = RecordHashes(tmp_path / "h.sqlite")
    hashes.record("t", "20260101", [(1, b"h1")])
    hashes.commit()
    assert hashes.adopt("t", "cluster-a/topic-1")
    assert not hashes.adopt("t", "cluster-a/topic-1")
    hashes.close()
