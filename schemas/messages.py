"""Builders of the control-topic messages: dump lifecycle events (`discogs.dumps`) and dead letters (`discogs.dlq`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

EXCERPT_LIMIT = 2000


def format_time(moment: datetime) -> str:
    """Timestamps in every message: UTC, whole seconds, `Z` suffix."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now_iso() -> str:
    return format_time(datetime.now(UTC))


def dump_event_key(dump_version: str, entity: str) -> str:
    return f"{dump_version}:{entity}"


def started(dump_version: str, entity: str, file: str) -> dict[str, Any]:
    return {"event": "started", "dump_version": dump_version, "entity": entity, "file": file, "at": now_iso()}


def completed(
    dump_version: str, entity: str, file: str, counts: dict[str, int], checksum: str | None
) -> dict[str, Any]:
    return {"event": "completed", "dump_version": dump_version, "entity": entity, "file": file,
            "at": now_iso(), "counts": counts, "checksum": checksum}


def failed(dump_version: str, entity: str, file: str, reason: str, counts: dict[str, int]) -> dict[str, Any]:
    return {"event": "failed", "dump_version": dump_version, "entity": entity, "file": file,
            "at": now_iso(), "reason": reason, "counts": counts}


def dead_letter(
    source: str, entity: str, record_id: int | None, reason: str, excerpt: str, dump_version: str | None
) -> dict[str, Any]:
    return {"source": source, "entity": entity, "id": record_id, "reason": reason,
            "excerpt": excerpt[:EXCERPT_LIMIT], "dump_version": dump_version, "at": now_iso()}


def dead_letter_key(entity: str, record_id: int | None) -> str:
    return entity if record_id is None else f"{entity}:{record_id}"
