"""Real Discogs records from the dump excerpts (tests/fixtures/discogs), as the store holds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web_fakes import FakeRelease

from producers.records import iter_records
from sinks.facets import release_facets, release_videos

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


def fixture_catalog() -> list[FakeRelease]:
    """The releases with videos as a fake index's catalogue: their real facet values and YouTube ids."""
    return [
        FakeRelease(release_id=rid, facets={f: tuple(sorted(v)) for f, v in release_facets(r).items() if v},
                    videos=tuple(video_id for video_id, _title in release_videos(r)))
        for rid, r in fixture_records("releases").items()
        if release_videos(r)
    ]
