"""Opt-in (DATAGET_SHARED_FIXTURES=1): the larger excerpt set kept beside the repository, about 4,000 records.

The repository's excerpts are cut from it; here every record of the larger set goes through the parser, the block
splitter and the schemas, and the repository's records are checked to be the same records.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from producers.chunks import SPLITTABLE, parse_block, raw_blocks
from producers.records import iter_records
from schemas.generate import load_schema

COUNTS = {
    "releases-sample-philipmat-20200806.xml": 979,
    "masters-sample-philipmat-20200806.xml": 1000,
    "artists-sample-philipmat-20200806.xml": 973,
    "labels-sample-philipmat-20200806.xml": 995,
    "releases-sample-tgmz-2025-2026.xml": 11,
    "masters-sample-tgmz-2025-2026.xml": 4,
    "artists-sample-tgmz-2025-2026.xml": 19,
    "labels-sample-tgmz-2025-2026.xml": 9,
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_every_record_parses_the_same_every_way_and_validates(shared_fixtures_dir: Path, fixtures_dir: Path,
                                                              name: str) -> None:
    entity = name.split("-", 1)[0]
    items = list(iter_records(shared_fixtures_dir / name))
    assert len(items) == len({item.record_id for item in items}) == COUNTS[name]
    assert all(item.error is None for item in items)
    values = [(item.record_id, item.value) for item in items]
    assert [(item.record_id, item.value) for item in iter_records(shared_fixtures_dir / f"{name}.gz")] == values
    if entity in SPLITTABLE:
        blocks = raw_blocks(shared_fixtures_dir / f"{name}.gz", entity, block_size=65536)
        assert [(item.record_id, item.value) for block in blocks for item in parse_block(entity, block)] == values
    validator = Draft202012Validator(load_schema(f"discogs.{entity}"))
    for item in items:
        errors = list(validator.iter_errors(item.record))
        assert not errors, f"{entity} {item.record_id}: {errors[0].message} at {list(errors[0].path)}"
    # The repository's excerpt of this file holds some of these records, unchanged.
    kept = {item.record_id: item.value for item in iter_records(fixtures_dir / name)}
    assert kept and {record_id: value for record_id, value in values if record_id in kept} == kept


def test_documented_counts_of_the_2020_files(shared_fixtures_dir: Path) -> None:
    def records(name: str) -> list[dict]:
        return [item.record for item in iter_records(shared_fixtures_dir / f"{name}-sample-philipmat-20200806.xml")]

    releases = records("releases")
    assert sum(1 for r in releases if r["master_id"] is None) == 383
    assert sum(1 for r in releases if r["is_main_release"] is True) == 147
    assert sum(1 for r in releases if any(t["sub_tracks"] for t in r["tracklist"])) == 20
    assert sum(1 for r in releases if r["released"] is None) == 118
    assert sum(len(r["videos"]) for r in releases) == 2190
    assert sum(1 for m in records("masters") if m["year"] is None) == 38
    assert sum(len(a["members"]) for a in records("artists")) == 192
    labels = records("labels")
    assert sum(1 for label in labels if label["parent_label"]) == 82
    assert all(label["sublabels"] == [] for label in labels)
