"""Real Discogs records from the dump excerpts (tests/fixtures/discogs), as the store holds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from producers.records import iter_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discogs"


def fixture_records(entity: str) -> dict[int, dict[str, Any]]:
    """Every well-formed record of the entity's excerpts, by id."""
    records: dict[int, dict[str, Any]] = {}
    for path in sorted(FIXTURES.glob(f"{entity}-sample-*.xml")):
        for item in iter_records(path):
            if item.record_id is not None and item.record is not None:
                records[item.record_id] = dict(item.record)
    return records


def release_with_videos_and_tracks() -> dict[str, Any]:
    """A release with a master, videos and a tracklist (the one a page shows best)."""
    return next(r for r in fixture_records("releases").values()
                if r.get("videos") and r.get("tracklist") and r.get("master_id") and r.get("labels"))
