"""Ingest one dump file: publish new or changed records, tombstones for vanished ids, lifecycle events.

Exactly-once from the reader's point of view: a record's hash is committed to the state file only after
Kafka acknowledged its message, so a crash re-publishes at most the last unacknowledged batch (same key,
same value: harmless on a compacted topic) and never skips one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from producers.batch_publish import BatchOutcome, BatchTarget, publish_batch
from producers.chunks import SPLITTABLE
from producers.dumpfile import DumpFileError, detect_entity, dump_version_from_path
from producers.gc_pause import gc_paused
from producers.parallel_parse import parallel_outcomes
from producers.publisher import Publisher, PublishError
from producers.record_hashes import RecordHashes
from producers.records import iter_records
from runtime.settings import Settings
from runtime.topic_admin import topic_identity
from schemas import messages
from schemas.topics import DUMP_VERSION_HEADER

log = logging.getLogger(__name__)
# Seconds to publish the dump event of a failed ingest.
FAILED_EVENT_TIMEOUT_S = 15.0

BATCH = 5000


class IngestError(RuntimeError):
    exit_code = 1


class MassDeleteVeto(IngestError):
    exit_code = 3


@dataclass
class IngestReport:
    entity: str
    dump_version: str
    topic: str
    counts: dict[str, int] = field(
        default_factory=lambda: {"records": 0, "published": 0, "unchanged": 0, "deleted": 0, "dlq": 0}
    )


def file_checksum(path: Path, dump_version: str) -> str:
    """SHA-256 of the file: from the verified CHECKSUM file beside it when there is one, else computed."""
    listing = path.parent / f"discogs_{dump_version}_CHECKSUM.txt"
    if listing.exists():
        for line in listing.read_text().splitlines():
            digest, _, name = line.strip().partition(" ")
            if name.strip() == path.name:
                return digest
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def ingest_file(
    path: Path,
    settings: Settings,
    publisher: Publisher,
    hashes: RecordHashes,
    *,
    dump_version: str | None = None,
    allow_mass_delete: bool = False,
    on_record: Callable[[int], None] | None = None,
    jobs: int = 1,
) -> IngestReport:
    """Publish one dump file; `jobs` > 1 parses releases, masters and artists in that many processes."""
    try:
        entity = detect_entity(path)
    except DumpFileError as exc:
        # Not even the root element is readable: there is no entity to report a failed event for.
        raise IngestError(str(exc)) from exc
    version = dump_version or dump_version_from_path(path)
    if not version:
        raise IngestError(f"{path.name}: no YYYYMMDD dump version in the file name; pass --dump-version")
    report = IngestReport(entity, version, settings.topics.entity(entity))
    if hashes.adopt(report.topic, topic_identity(settings, report.topic)):
        log.warning("%s: the record-hash state describes another Kafka cluster or topic %s (purged, replaced or "
                    "recreated): publishing every record, deleting none", path.name, report.topic)
    events = settings.topics.dumps
    event_key = messages.dump_event_key(version, entity)
    publisher.send_json(events, event_key, messages.started(version, entity, path.name))
    publisher.checkpoint()
    try:
        _publish_records(path, BatchTarget(settings, entity, version), publisher, hashes, report, jobs, on_record)
        _publish_tombstones(publisher, hashes, report, settings.max_delete_share, allow_mass_delete)
    except (DumpFileError, IngestError, PublishError) as exc:
        hashes.rollback()
        try:
            publisher.send_json(events, event_key, messages.failed(version, entity, path.name, str(exc),
                                                                   report.counts))
            # Short: when Kafka itself is what failed, this cannot succeed either.
            publisher.checkpoint(FAILED_EVENT_TIMEOUT_S)
        except PublishError as lost:
            log.warning("%s: the dump event saying the ingest failed was not published: %s", path.name, lost)
        if isinstance(exc, IngestError):
            raise
        raise IngestError(str(exc)) from exc
    checksum = file_checksum(path, version)
    publisher.send_json(events, event_key, messages.completed(version, entity, path.name, report.counts, checksum))
    publisher.checkpoint()
    return report


def _outcomes(path: Path, target: BatchTarget, publisher: Publisher, hashes: RecordHashes,
              jobs: int) -> Iterator[BatchOutcome]:
    if jobs > 1 and target.entity in SPLITTABLE:
        yield from parallel_outcomes(path, target, hashes.path, jobs)
        return
    records = iter_records(path)
    while True:
        with gc_paused():
            batch = list(islice(records, BATCH))
            if not batch:
                return
            outcome = publish_batch(target, batch, publisher, hashes)
        yield outcome


def _publish_records(
    path: Path,
    target: BatchTarget,
    publisher: Publisher,
    hashes: RecordHashes,
    report: IngestReport,
    jobs: int,
    on_record: Callable[[int], None] | None,
) -> None:
    counts = report.counts
    for outcome in _outcomes(path, target, publisher, hashes, jobs):
        # Kafka acknowledged the batch: now its hashes may become durable.
        hashes.record(report.topic, report.dump_version, outcome.digests)
        hashes.commit()
        counts["records"] += outcome.records
        counts["published"] += outcome.published
        counts["unchanged"] += outcome.records - outcome.published - outcome.dlq
        counts["dlq"] += outcome.dlq
        if on_record:
            on_record(counts["records"])


def _publish_tombstones(
    publisher: Publisher, hashes: RecordHashes, report: IngestReport, max_share: float, allow: bool
) -> None:
    known = hashes.count(report.topic)
    gone = hashes.count_missing(report.topic, report.dump_version)
    if gone and not allow and gone > max_share * known:
        raise MassDeleteVeto(
            f"{report.entity}: dump {report.dump_version} would delete {gone} of {known} records "
            f"({gone / known:.1%} > {max_share:.0%}); check the file, then rerun with --allow-mass-delete"
        )
    ids = list(hashes.missing(report.topic, report.dump_version))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        for record_id in chunk:
            publisher.send(report.topic, str(record_id), None, {DUMP_VERSION_HEADER: report.dump_version})
        publisher.checkpoint()
        hashes.forget(report.topic, chunk)
        hashes.commit()
    report.counts["deleted"] = len(ids)
