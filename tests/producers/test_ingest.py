"""Ingest on the real broker: what lands in the topics, incremental months, failures."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import jsonschema
import orjson
import pytest

from producers.ingest import IngestError, MassDeleteVeto, ingest_file
from producers.publisher import Publisher, PublishError
from producers.record_hashes import RecordHashes
from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from schemas.generate import load_schema
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.stack


@pytest.fixture
def pipeline(isolated_settings: Settings, tmp_path: Path):
    ensure_topics(isolated_settings)
    publisher = Publisher(isolated_settings)
    hashes = RecordHashes(tmp_path / "hashes.sqlite")
    yield isolated_settings, publisher, hashes
    publisher.close()
    hashes.close()


def _values(settings: Settings, topic: str) -> list:
    return read_topic(settings, topic)


def test_releases_are_published_keyed_by_id_with_dump_version_and_valid_schema(pipeline, fixtures_dir) -> None:
    settings, publisher, hashes = pipeline
    path = fixtures_dir / "releases-sample-tgmz-2025-2026.xml.gz"
    report = ingest_file(path, settings, publisher, hashes, dump_version="20260301")
    assert report.counts["records"] == 11 and report.counts["published"] == 11

    messages = _values(settings, settings.topics.entity("releases"))
    schema = load_schema("discogs.releases")
    keys = set()
    for message in messages:
        record = orjson.loads(message.value)
        jsonschema.validate(record, schema)
        assert message.key.decode() == str(record["id"])
        assert dict(message.headers)["dump_version"] == b"20260301"
        keys.add(record["id"])
    assert len(keys) == 11 and 10222 in keys

    events = [orjson.loads(m.value) for m in _values(settings, settings.topics.dumps)]
    assert [e["event"] for e in events] == ["started", "completed"]
    assert events[1]["counts"]["published"] == 11 and len(events[1]["checksum"]) == 64
    for event in events:
        jsonschema.validate(event, load_schema("discogs.dumps"))


def test_the_same_dump_twice_publishes_nothing_the_second_time(pipeline, fixtures_dir) -> None:
    settings, publisher, hashes = pipeline
    path = fixtures_dir / "masters-sample-tgmz-2025-2026.xml"
    ingest_file(path, settings, publisher, hashes, dump_version="20260301")
    again = ingest_file(path, settings, publisher, hashes, dump_version="20260301")
    assert again.counts["published"] == 0 and again.counts["unchanged"] == 4
    assert len(_values(settings, settings.topics.entity("masters"))) == 4


def test_a_newer_dump_publishes_changes_and_tombstones(pipeline, tmp_path) -> None:
    from dataget.synth.dump_set import write_dump_set

    settings, publisher, hashes = pipeline
    old = write_dump_set(tmp_path / "old", 400, seed=7, dump_date="20260201")
    new = write_dump_set(tmp_path / "new", 400, seed=7, dump_date="20260301", revision=1)
    first = ingest_file(old.releases, settings, publisher, hashes)
    second = ingest_file(new.releases, settings, publisher, hashes)
    assert first.counts["published"] == first.counts["records"]
    assert 0 < second.counts["published"] < second.counts["records"] * 0.2
    assert second.counts["deleted"] > 0

    latest: dict[int, bytes | None] = {}
    for message in _values(settings, settings.topics.entity("releases")):
        latest[int(message.key)] = message.value
    live = {k for k, v in latest.items() if v is not None}
    # After both months the topic's latest values describe exactly the newer dump.
    with gzip.open(new.releases) as fh:
        expected = {int(line.split(b'"')[1]) for line in fh if line.startswith(b"<release ")}
    assert live == expected
    assert len(latest) - len(live) == second.counts["deleted"]


def test_mass_deletion_is_vetoed_unless_allowed(pipeline, fixtures_dir, tmp_path) -> None:
    settings, publisher, hashes = pipeline
    ingest_file(fixtures_dir / "releases-sample-philipmat-20200806.xml.gz", settings, publisher, hashes)
    small = fixtures_dir / "releases-sample-tgmz-2025-2026.xml"
    with pytest.raises(MassDeleteVeto, match="allow-mass-delete"):
        ingest_file(small, settings, publisher, hashes, dump_version="20260301")
    releases = settings.topics.entity("releases")
    assert all(m.value is not None for m in _values(settings, releases))
    report = ingest_file(small, settings, publisher, hashes, dump_version="20260301", allow_mass_delete=True)
    assert report.counts["deleted"] == 37


def test_truncated_gzip_fails_loudly_without_completed_or_tombstones(pipeline, fixtures_dir, tmp_path) -> None:
    settings, publisher, hashes = pipeline
    source = (fixtures_dir / "releases-sample-philipmat-20200806.xml.gz").read_bytes()
    truncated = tmp_path / "discogs_20200806_releases.xml.gz"
    truncated.write_bytes(source[: len(source) // 2])
    with pytest.raises(IngestError):
        ingest_file(truncated, settings, publisher, hashes)
    events = [orjson.loads(m.value) for m in _values(settings, settings.topics.dumps)]
    assert [e["event"] for e in events] == ["started", "failed"]
    assert events[1]["reason"]
    assert all(m.value is not None for m in _values(settings, settings.topics.entity("releases")))


def test_a_malformed_record_goes_to_the_dlq_and_the_rest_is_published(pipeline, fixtures_dir, tmp_path) -> None:
    settings, publisher, hashes = pipeline
    text = (fixtures_dir / "masters-sample-tgmz-2025-2026.xml").read_text()
    broken = text.replace('<master id="115">', '<master id="not-a-number">', 1)
    assert broken != text
    path = tmp_path / "discogs_20260301_masters.xml"
    path.write_text(broken)
    report = ingest_file(path, settings, publisher, hashes)
    assert report.counts["dlq"] == 1 and report.counts["published"] == 3
    letters = [orjson.loads(m.value) for m in _values(settings, settings.topics.dlq)]
    assert len(letters) == 1 and letters[0]["entity"] == "masters" and "not-a-number" in letters[0]["excerpt"]
    jsonschema.validate(letters[0], load_schema("discogs.dlq"))


def test_cli_ingest_exit_codes(dataget_bin, isolated_settings, fixtures_dir, tmp_path) -> None:
    import subprocess

    from runtime.settings import settings_env

    env = {**settings_env(isolated_settings), "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([str(dataget_bin), "ingest", str(fixtures_dir / "masters-sample-tgmz-2025-2026.xml.gz"),
                         "--dump-version", "20260301"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "published=4" in ok.stdout
    bad = tmp_path / "discogs_20260301_masters.xml.gz"
    shutil.copy(fixtures_dir / "masters-sample-philipmat-20200806.xml.gz", bad)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    failed = subprocess.run([str(dataget_bin), "ingest", str(bad)], env=env, capture_output=True, text=True)
    assert failed.returncode != 0 and bad.name in failed.stderr


@pytest.mark.parametrize("jobs", [1, 2])
def test_parallel_parsing_publishes_exactly_what_sequential_parsing_does(pipeline, tmp_path, jobs) -> None:
    from dataget.synth.dump_set import write_dump_set

    settings, publisher, hashes = pipeline
    dumps = write_dump_set(tmp_path / "d", 1500, seed=3)
    report = ingest_file(dumps.releases, settings, publisher, hashes, jobs=jobs)
    assert report.counts["records"] == report.counts["published"] == 1500
    messages = _values(settings, settings.topics.entity("releases"))
    assert sorted(int(m.key) for m in messages) == sorted({int(m.key) for m in messages})
    again = ingest_file(dumps.releases, settings, publisher, hashes, jobs=jobs)
    assert again.counts["published"] == 0 and again.counts["unchanged"] == 1500
    from producers.records import iter_records

    expected = {item.record_id: item.record for item in iter_records(dumps.releases)}
    assert {int(m.key): orjson.loads(m.value) for m in messages} == expected


def test_parallel_parsing_of_a_truncated_file_fails_and_the_process_exits(dataget_bin, pipeline, tmp_path) -> None:
    import subprocess

    from dataget.synth.dump_set import write_dump_set
    from runtime.settings import settings_env

    settings, publisher, hashes = pipeline
    source = write_dump_set(tmp_path / "d", 3000, seed=5).releases.read_bytes()
    truncated = tmp_path / "discogs_20260301_releases.xml.gz"
    truncated.write_bytes(source[: len(source) * 2 // 3])
    with pytest.raises(IngestError):
        ingest_file(truncated, settings, publisher, hashes, jobs=2)
    events = [orjson.loads(m.value)["event"] for m in _values(settings, settings.topics.dumps)]
    assert events == ["started", "failed"]
    # Killed parsers leave blocks queued: the CLI must still exit instead of waiting to flush them.
    env = {**settings_env(settings.with_(state_dir=tmp_path / "state")), "PATH": "/usr/bin:/bin"}
    cli = subprocess.run([str(dataget_bin), "ingest", str(truncated), "--jobs", "2"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode != 0 and truncated.name in cli.stderr


class KafkaDiesAfter:
    """A real publisher whose checkpoints fail once `healthy` of them have passed (the broker died meanwhile)."""

    def __init__(self, publisher: Publisher, healthy: int) -> None:
        self._publisher, self._healthy = publisher, healthy

    def send(self, *args, **kwargs) -> None:
        self._publisher.send(*args, **kwargs)

    def send_json(self, *args, **kwargs) -> None:
        self._publisher.send_json(*args, **kwargs)

    def checkpoint(self, timeout_s: float = 0) -> None:
        if self._healthy == 0:
            raise PublishError("flush failed: KafkaTimeoutError: Timeout waiting for future")
        self._healthy -= 1
        self._publisher.checkpoint()


def test_kafka_dying_mid_ingest_fails_it_and_the_next_run_publishes_everything(pipeline, fixtures_dir) -> None:
    settings, publisher, hashes = pipeline
    path = fixtures_dir / "releases-sample-philipmat-20200806.xml.gz"
    # The started event gets through; the checkpoint of the records does not.
    with pytest.raises(IngestError, match="Timeout waiting for future"):
        ingest_file(path, settings, KafkaDiesAfter(publisher, healthy=1), hashes, jobs=1)  # type: ignore[arg-type]
    # Nothing unconfirmed counts as published, so the next run publishes every record.
    assert hashes.count(settings.topics.entity("releases")) == 0
    report = ingest_file(path, settings, publisher, hashes, jobs=1)
    assert report.counts["published"] == report.counts["records"] == 37


def _bad_crc(data: bytes) -> bytes:
    """The gzip member intact but for its trailer's CRC-32: every byte decompresses, the check at the end fails."""
    return data[:-8] + bytes([data[-8] ^ 0xFF]) + data[-7:]


def _bad_utf8_mid_file(data: bytes) -> bytes:
    text = gzip.decompress(data)
    middle = text.index(b"<title>", len(text) // 2) + len(b"<title>")
    return gzip.compress(text[:middle] + b"\xff\xfe" + text[middle:])


@pytest.mark.parametrize("damage", [_bad_crc, _bad_utf8_mid_file])
def test_a_damaged_dump_fails_and_deletes_nothing(pipeline, fixtures_dir, tmp_path, damage) -> None:
    settings, publisher, hashes = pipeline
    good = fixtures_dir / "releases-sample-philipmat-20200806.xml.gz"
    ingest_file(good, settings, publisher, hashes)
    damaged = tmp_path / "discogs_20200906_releases.xml.gz"
    damaged.write_bytes(damage(good.read_bytes()))
    with pytest.raises(IngestError) as failure:
        ingest_file(damaged, settings, publisher, hashes)
    assert damaged.name in str(failure.value) and "\n" not in str(failure.value)  # one clear line
    events = [orjson.loads(m.value)["event"] for m in _values(settings, settings.topics.dumps)]
    assert events == ["started", "completed", "started", "failed"]
    assert all(m.value is not None for m in _values(settings, settings.topics.entity("releases")))  # no tombstone
    # The previous dump's state is intact: the good file again is all unchanged.
    again = ingest_file(good, settings, publisher, hashes)
    assert (again.counts["published"], again.counts["deleted"]) == (0, 0)


def test_a_recreated_topic_gets_a_full_publish_and_no_tombstones(pipeline, fixtures_dir, caplog) -> None:
    import time

    from kafka import KafkaAdminClient

    settings, publisher, hashes = pipeline
    big = ingest_file(fixtures_dir / "releases-sample-philipmat-20200806.xml.gz", settings, publisher, hashes)
    topic = settings.topics.entity("releases")
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    admin.delete_topics([topic])  # as after `dataget stack down --purge`, or a new broker
    while topic in admin.list_topics():
        time.sleep(0.2)
    admin.close()
    ensure_topics(settings)
    again = ingest_file(fixtures_dir / "releases-sample-philipmat-20200806.xml.gz", settings, publisher, hashes)
    assert again.counts["published"] == big.counts["published"] > 0  # not 'already published'
    assert "another Kafka cluster or topic" in caplog.text
    # A smaller dump next: only what it lacks of what this topic has is deleted, not ids it never had.
    small = ingest_file(fixtures_dir / "releases-sample-tgmz-2025-2026.xml.gz", settings, publisher, hashes,
                        dump_version="20260301", allow_mass_delete=True)
    assert small.counts["deleted"] == big.counts["published"]
