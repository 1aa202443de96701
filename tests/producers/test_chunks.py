from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from producers.chunks import parse_block, raw_blocks
from producers.dumpfile import DumpFileError
from producers.records import iter_records


@pytest.mark.parametrize("name", ["releases-sample-philipmat-20200806.xml.gz", "releases-sample-tgmz-2025-2026.xml",
                                  "masters-sample-philipmat-20200806.xml", "artists-sample-tgmz-2025-2026.xml.gz"])
def test_blocks_hold_exactly_the_records_of_the_file(fixtures_dir: Path, name: str) -> None:
    path = fixtures_dir / name
    entity = name.split("-")[0]
    # Tiny blocks force cuts everywhere, including inside records that span several reads.
    items = [item for block in raw_blocks(path, entity, block_size=4096) for item in parse_block(entity, block)]
    expected = list(iter_records(path))
    assert [i.record_id for i in items] == [i.record_id for i in expected]
    assert [i.record for i in items] == [i.record for i in expected]


def test_released_is_not_mistaken_for_a_release_start(tmp_path: Path) -> None:
    xml = b'<releases><release id="1"><title>a</title><released>1999</released></release>\n' \
          b'<release id="2"><released>2000</released></release></releases>'
    path = tmp_path / "r.xml"
    path.write_bytes(xml)
    blocks = list(raw_blocks(path, "releases", block_size=8))
    assert [i.record_id for b in blocks for i in parse_block("releases", b)] == [1, 2]


def test_a_file_cut_short_is_an_error(tmp_path: Path, fixtures_dir: Path) -> None:
    data = (fixtures_dir / "masters-sample-tgmz-2025-2026.xml").read_bytes()
    path = tmp_path / "m.xml.gz"
    path.write_bytes(gzip.compress(data[: len(data) - 40]))
    with pytest.raises(DumpFileError, match="truncated"):
        list(raw_blocks(path, "masters"))
