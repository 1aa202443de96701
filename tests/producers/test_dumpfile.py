"""Streaming the dump files: entity detection, gzip handling, record selection by depth, damaged files."""

from __future__ import annotations

import gzip
import shutil

import pytest

from producers.dumpfile import DumpFileError, detect_entity, dump_version_from_path, iter_elements, open_dump
from producers.records import iter_records

COUNTS = {
    "releases-sample-philipmat-20200806.xml": 37,
    "masters-sample-philipmat-20200806.xml": 30,
    "artists-sample-philipmat-20200806.xml": 51,
    "labels-sample-philipmat-20200806.xml": 52,
    "releases-sample-tgmz-2025-2026.xml": 11,
    "masters-sample-tgmz-2025-2026.xml": 4,
    "artists-sample-tgmz-2025-2026.xml": 19,
    "labels-sample-tgmz-2025-2026.xml": 9,
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_record_counts_and_gzip_equals_plain(fixtures_dir, name):
    plain = [(item.record_id, item.record) for item in iter_records(fixtures_dir / name)]
    zipped = [(item.record_id, item.record) for item in iter_records(fixtures_dir / f"{name}.gz")]
    assert len(plain) == COUNTS[name]
    assert plain == zipped
    assert len({record_id for record_id, _ in plain}) == COUNTS[name]
    entity = name.split("-", 1)[0]
    assert detect_entity(fixtures_dir / name) == detect_entity(fixtures_dir / f"{name}.gz") == entity


def test_nested_labels_are_not_records(fixtures_dir):
    # 343 `<label>` elements sit inside `<sublabels>` of the 9 records; they stay intact for their parent.
    records = [elem for _, elem in iter_elements(fixtures_dir / "labels-sample-tgmz-2025-2026.xml")]
    assert len(records) == 9
    seen = []
    for _, elem in iter_elements(fixtures_dir / "labels-sample-tgmz-2025-2026.xml"):
        seen.append(sum(1 for sub in elem.iterfind("sublabels/label") if sub.get("id") and sub.text))
    assert sum(seen) == 343


def test_gzip_detected_by_magic_bytes_not_suffix(fixtures_dir, tmp_path):
    disguised = tmp_path / "masters.xml"
    shutil.copy(fixtures_dir / "masters-sample-tgmz-2025-2026.xml.gz", disguised)
    with open_dump(disguised) as source:
        assert source.read(9) == b"<masters>"
    assert sum(1 for _ in iter_elements(disguised)) == 4


def test_dump_version_from_path():
    assert dump_version_from_path("/data/discogs_20260301_releases.xml.gz") == "20260301"
    assert dump_version_from_path("releases-sample-philipmat-20200806.xml") == "20200806"
    assert dump_version_from_path("releases-sample-tgmz-2025-2026.xml") is None
    assert dump_version_from_path("discogs_20260301/releases.xml") is None


def test_truncated_gzip_raises_with_progress(fixtures_dir, tmp_path):
    data = (fixtures_dir / "releases-sample-philipmat-20200806.xml.gz").read_bytes()
    truncated = tmp_path / "discogs_20200806_releases.xml.gz"
    truncated.write_bytes(data[: len(data) // 2])
    items = []
    with pytest.raises(DumpFileError) as info:
        for item in iter_records(truncated):
            items.append(item)
    assert truncated.name in str(info.value)
    assert f"after {len(items)} releases records" in str(info.value)
    assert 0 < len(items) < 37


def test_corrupt_gzip_raises(fixtures_dir, tmp_path):
    data = bytearray((fixtures_dir / "artists-sample-philipmat-20200806.xml.gz").read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    corrupt = tmp_path / "artists.xml.gz"
    corrupt.write_bytes(bytes(data))
    with pytest.raises(DumpFileError, match="artists.xml.gz"):
        list(iter_elements(corrupt))


def test_malformed_xml_raises(tmp_path):
    broken = tmp_path / "masters.xml"
    broken.write_text('<masters>\n<master id="1"><title>A</title></master>\n<master id="2"><title>B</master>\n')
    with pytest.raises(DumpFileError, match=r"masters.xml: unreadable after 1 masters records"):
        list(iter_elements(broken))


@pytest.mark.parametrize(("content", "message"), [
    ("<playlists><playlist/></playlists>", "root element <playlists>"),
    ("not xml at all", "cannot read the root element"),
    ("", "cannot read the root element"),
])
def test_not_a_dump(tmp_path, content, message):
    path = tmp_path / "x.xml"
    path.write_text(content)
    with pytest.raises(DumpFileError, match=message):
        detect_entity(path)


def test_malformed_record_is_an_error_item_and_the_stream_goes_on(tmp_path):
    path = tmp_path / "discogs_20260301_releases.xml.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write('<releases>\n<release id="1"><title>One</title></release>\n'
                  '<release id="abc"><title>Bad</title></release>\n'
                  '<release id="3"><videos><video src="x" duration="?"/></videos></release>\n'
                  '<release id="4"><title>Four</title></release>\n</releases>\n')
    items = list(iter_records(path))
    assert [(i.record_id, i.error is None) for i in items] == [(1, True), (None, False), (3, False), (4, True)]
    bad = items[1]
    assert bad.record is None and bad.entity == "releases"
    assert "not an integer" in bad.error.reason
    assert bad.excerpt == '<release id="abc"><title>Bad</title></release>'
    assert items[2].error.record_id == 3 and "video duration" in items[2].error.reason
    assert items[3].record["title"] == "Four"


def test_records_are_cleared_after_use(fixtures_dir):
    # Constant memory: a yielded element is emptied once the next one is requested, and its
    # predecessors are detached from the root.
    previous = None
    for _, elem in iter_elements(fixtures_dir / "masters-sample-philipmat-20200806.xml"):
        if previous is not None:
            assert len(previous) == 0 and previous.get("id") is None
            assert elem.getparent().index(elem) <= 1
        previous = elem
