"""Types and builders of the control-topic messages: dump lifecycle events (`discogs.dumps`) and dead letters
(`discogs.dlq`)."""

# No `from __future__ import annotations`: TypedDict sees NotRequired only in evaluated annotations, and the
# message types' required keys are read at run time (tests/schemas/test_message_types.py).
from datetime import UTC, datetime
from typing import Literal, NotRequired, TypedDict

EXCERPT_LIMIT = 2000
# Who could not handle a dead-lettered record.
DeadLetterSource = Literal["producer", "indexer"]


class DumpEvent(TypedDict):
    """A `discogs.dumps` value (schemas/discogs.dumps.schema.json)."""

    event: Literal["started", "completed", "failed"]
    dump_version: str
    entity: str
    file: str
    at: str
    # completed and failed: records, published, unchanged, deleted, dlq
    counts: NotRequired[dict[str, int]]
    # completed: SHA-256 of the file
    checksum: NotRequired[str | None]
    # failed
    reason: NotRequired[str]


class DeadLetterMessage(TypedDict):
    """A `discogs.dlq` value (schemas/discogs.dlq.schema.json)."""

    source: DeadLetterSource
    entity: str
    id: int | None
    reason: str
    excerpt: str
    dump_version: str | None
    at: str


def format_time(moment: datetime) -> str:
    """Timestamps in every message: UTC, whole seconds, `Z` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now_iso() -> str:
    return format_time(datetime.now(UTC))


def dump_event_key(dump_version: str, entity: str) -> str:
    return f"{dump_version}:{entity}"


def started(dump_version: str, entity: str, file: str) -> DumpEvent:
    return {"event": "started", "dump_version": dump_version, "entity": entity, "file": file, "at": now_iso()}


def completed(
    dump_version: str, entity: str, file: str, counts: dict[str, int], checksum: str | None
) -> DumpEvent:
    return {"event": "completed", "dump_version": dump_version, "entity": entity, "file": file,
            "at": now_iso(), "counts": counts, "checksum": checksum}


def failed(dump_version: str, entity: str, file: str, reason: str, counts: dict[str, int]) -> DumpEvent:
    return {"event": "failed", "dump_version": dump_version, "entity": entity, "file": file,
            "at": now_iso(), "reason": reason, "counts": counts}


def dead_letter(
    source: DeadLetterSource, entity: str, record_id: int | None, reason: str, excerpt: str,
    dump_version: str | None,
) -> DeadLetterMessage:
    return {"source": source, "entity": entity, "id": record_id, "reason": reason,
            "excerpt": excerpt[:EXCERPT_LIMIT], "dump_version": dump_version, "at": now_iso()}


def dead_letter_key(entity: str, record_id: int | None) -> str:
    return entity if record_id is None else f"{entity}:{record_id}"
