"""The published bytes of real records, pinned: the producer stores a content hash of exactly these bytes, so a
changed byte republishes every record of every dump (and churns the workers) on the next ingest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from producers.chunks import SPLITTABLE, parse_block, raw_blocks
from producers.record_hashes import content_hash
from producers.records import iter_records
from tests.golden import check_golden

# A dozen records of each entity from both dump eras, the awkward ones among them.
PINNED: dict[str, dict[str, tuple[int, ...]]] = {
    "releases": {
        # CR in notes, Various with per-track artists, escaped HTML, an unlinked credit, sub-tracks, an NBSP.
        "philipmat-20200806": (22, 103, 1586357, 6084126, 9342970, 14220561),
        # 2026-03 shape (no status), videos, an extraartist without id, a 571-track box set, series.
        "tgmz-2025-2026": (2323, 2324, 10222, 527839, 4957101, 10526741),
    },
    "masters": {
        # Notes, several artists, NBSP and no styles, Various, year 0.
        "philipmat-20200806": (115, 118, 125, 129645, 258687, 775318, 775345, 904431),
        "tgmz-2025-2026": (115, 18080, 240656, 482870),
    },
    "artists": {
        # Aliases and groups, members in the 2020 shape, urls, Cyrillic.
        "philipmat-20200806": (32, 33, 34, 35, 36, 912622),
        # Members as `<name id>` only (up to 299), 287 name variations.
        "tgmz-2025-2026": (32, 2725, 25411, 27518, 231513, 754974),
    },
    "labels": {
        # Parent labels, emptied sub-labels, contact info.
        "philipmat-20200806": (6, 7, 8, 9, 10, 193971),
        # Sub-labels with ids and names (173 on one label), CR LF in profiles.
        "tgmz-2025-2026": (157, 240, 895, 12954, 26391, 72737),
    },
}


def test_record_bytes_and_stored_hashes_are_pinned(fixtures_dir: Path) -> None:
    actual: dict[str, dict[str, str]] = {}
    for entity, sources in PINNED.items():
        for source, ids in sources.items():
            path = fixtures_dir / f"{entity}-sample-{source}.xml.gz"
            values = {item.record_id: item.value for item in iter_records(path)}
            if entity in SPLITTABLE:
                # Parser processes cut the file into blocks of whole records: the same bytes must come out there.
                from_blocks = {item.record_id: item.value
                               for block in raw_blocks(path, entity, block_size=8192)
                               for item in parse_block(entity, block)}
                assert from_blocks == values
            for record_id in ids:
                value = values[record_id]
                assert value is not None
                actual[f"{entity} {source} {record_id}"] = {
                    "sha256": hashlib.sha256(value).hexdigest(),
                    "stored_hash": content_hash(value).hex(),
                }
    check_golden("record_bytes.json", actual)
