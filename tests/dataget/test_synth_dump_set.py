"""Tests for `dataget synth`: structure, closed references, checksums, determinism and revisions."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import zlib
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from dataget.commands.synth import register, run
from dataget.synth.compress import compress_piece, crc32_combine, write_pieces
from dataget.synth.dump_set import DumpSet, write_dump_set
from dataget.synth.plan import Churn
from dataget.synth.shape import Catalogue
from producers.records import iter_records
from runtime.settings import Settings
from sinks.facets import release_facets, release_videos

N = 300
RELEASE_ORDER = ["artists", "title", "labels", "series", "extraartists", "formats", "genres", "styles", "country",
                 "released", "notes", "data_quality", "master_id", "tracklist", "identifiers", "videos", "companies"]
VIDEO_SRC = re.compile(r"^https://www\.youtube\.com/watch\?v=([A-Za-z0-9_-]{11})$")


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> DumpSet:
    return write_dump_set(tmp_path_factory.mktemp("synth"), N, seed=7)


def raw(path: Path) -> str:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read()


def records(path: Path) -> list[etree._Element]:
    return list(etree.fromstring(raw(path).encode()))


def record_texts(path: Path, tag: str) -> dict[int, str]:
    """Raw text of each record by id, cut like discogskit does (records end with `</tag>` + newline)."""
    body = raw(path).split("\n", 1)[1]
    out = {}
    for text in body.split(f"</{tag}>\n")[:-1]:
        m = re.match(rf'<{tag} id="(\d+)"', text) or re.match(rf"<{tag}><id>(\d+)</id>", text)
        assert m, text[:80]
        out[int(m.group(1))] = text
    return out


def ident(rec: etree._Element) -> int:
    return int(rec.get("id") or rec.findtext("id"))


def all_records(d: DumpSet) -> dict[str, list[etree._Element]]:
    return {kind: records(path) for kind, path in d.files.items()}


def test_files_and_counts(dumps: DumpSet) -> None:
    assert dumps.counts == {"artists": N // 2, "labels": N // 8, "masters": N // 4, "releases": N}
    for kind, path in dumps.files.items():
        assert path.name == f"discogs_20260301_{kind}.xml.gz"
        text = raw(path)
        assert text.startswith(f"<{kind}>\n<{kind[:-1]}")  # no XML declaration, records start a line
        assert text.endswith(f"</{kind}>\n")
        assert len(records(path)) == dumps.counts[kind]
    assert not list(dumps.releases.parent.glob("*.part"))


def test_checksum_file_matches_and_is_written_last(dumps: DumpSet) -> None:
    lines = dumps.checksum.read_text().splitlines()
    assert len(lines) == 4
    for line, path in zip(lines, dumps.files.values(), strict=True):
        assert line == f"{hashlib.sha256(path.read_bytes()).hexdigest()} {path.name}"
        assert dumps.checksum.stat().st_mtime_ns >= path.stat().st_mtime_ns


def test_release_structure_is_the_2026_shape(dumps: DumpSet) -> None:
    for rel in records(dumps.releases):
        assert rel.tag == "release" and set(rel.attrib) == {"id"}  # no status in 2026
        tags = [child.tag for child in rel]
        assert tags == [t for t in RELEASE_ORDER if t in tags], tags
        assert {"artists", "title", "formats", "data_quality", "master_id", "tracklist"} <= set(tags)
        assert rel.find("master_id").get("is_main_release") in ("true", "false")
        for label in rel.iterfind("labels/label"):
            assert list(label.attrib) == ["name", "catno", "id"]
        for fmt in rel.iterfind("formats/format"):
            assert fmt.get("qty").isdigit() and fmt.get("name")
        assert rel.find("tracklist/track") is not None
        for credit in rel.iterfind(".//artist"):
            assert credit.findtext("name")
        for el in rel.iter():  # 2025+: empty elements are omitted
            assert el.text or len(el) or el.attrib, f"empty <{el.tag}> in release {rel.get('id')}"
        assert rel.find(".//images") is None


def test_release_mix_is_realistic(dumps: DumpSet) -> None:
    rels = records(dumps.releases)
    with_videos = [r for r in rels if r.find("videos") is not None]
    assert 0.65 < len(with_videos) / len(rels) < 0.92
    for rel in with_videos:
        ids = []
        for video in rel.iterfind("videos/video"):
            m = VIDEO_SRC.match(video.get("src"))
            assert m and video.get("embed") == "true" and video.get("duration").isdigit()
            assert video.findtext("title")
            ids.append(m.group(1))
        assert len(ids) == len(set(ids)) <= 7
    tracks = sorted(len(r.findall("tracklist/track")) for r in rels)
    assert 8 <= tracks[len(tracks) // 2] <= 14
    genres = [g.text for r in rels for g in r.iterfind("genres/genre")]
    assert {"Electronic", "Rock", "Pop"} <= set(genres)
    released = [r.findtext("released") for r in rels]
    assert 0 < released.count(None) < len(rels) * 0.15
    assert any(v and v.endswith("-00-00") for v in released)
    text = raw(dumps.releases)
    assert "&#13;" in text and "&lt;" in text and re.search(r"[^\x00-\x7f]", text)


def top(values: list[str | None]) -> list[str | None]:
    return [v for v, _ in Counter(values).most_common(3)]


def test_rare_features_and_skew_in_a_bigger_set(tmp_path: Path) -> None:
    big = write_dump_set(tmp_path, 5000, seed=11)
    rels = records(big.releases)
    n = len(rels)
    assert 0.003 * n < sum(len(r.findall("tracklist/track")) >= 100 for r in rels) < 0.03 * n
    assert any(r.find("tracklist/track/sub_tracks/track/position") is not None for r in rels)
    assert any(r.find("tracklist/track/position") is None for r in rels)  # headings / index tracks
    assert any(r.find("series/series") is not None for r in rels)
    assert any(c.find("id") is None for r in rels for c in r.iterfind("extraartists/artist"))  # unlinked
    assert any(r.findtext("artists/artist/id") == "194" for r in rels)  # "Various"
    assert any(lab.get("id") == "1818" and lab.get("catno") == "none" for r in rels for lab in r.iter("label"))
    assert {"194"} <= {a.findtext("id") for a in records(big.artists)}
    assert top([g.text for r in rels for g in r.iterfind("genres/genre")])[0] in ("Rock", "Electronic")
    assert top([r.findtext("country") for r in rels])[0] == "US"
    assert top([f.get("name") for r in rels for f in r.iterfind("formats/format")])[:2] == ["Vinyl", "CD"]
    years = [int(r.findtext("released")[:4]) for r in rels if r.findtext("released")]
    assert 1950 <= min(years) and max(years) <= 2026
    assert sum(1990 <= y < 2020 for y in years) > 0.5 * len(years)
    # A few videos are shared between a master and its releases (deduplication material).
    master_videos = {v.get("src") for m in records(big.masters) for v in m.iterfind("videos/video")}
    release_videos = [v.get("src") for r in rels for v in r.iterfind("videos/video")]
    shared = sum(src in master_videos for src in release_videos)
    assert 0.005 * len(release_videos) < shared < 0.08 * len(release_videos)


def check_closed(d: DumpSet) -> None:
    """Every id referenced anywhere exists, ids ascend, masters and main releases mirror each other."""
    recs = all_records(d)
    ids = {kind: [ident(r) for r in rs] for kind, rs in recs.items()}
    for kind, values in ids.items():
        assert values == sorted(values) and len(set(values)) == len(values), kind
    artists, labels, masters = set(ids["artists"]), set(ids["labels"]), set(ids["masters"])
    main_of: dict[int, int] = {}
    for rel in recs["releases"]:
        master = int(rel.findtext("master_id"))
        assert master == 0 or master in masters
        if rel.find("master_id").get("is_main_release") == "true":
            assert master and master not in main_of
            main_of[master] = ident(rel)
        for credit in rel.iter("artist"):
            if credit.find("id") is not None:
                assert int(credit.findtext("id")) in artists
        refs = [int(e.get("id")) for e in rel.iterfind("labels/label")]
        refs += [int(e.get("id")) for e in rel.iterfind("series/series")]
        refs += [int(e.findtext("id")) for e in rel.iterfind("companies/company")]
        assert set(refs) <= labels
    for master in recs["masters"]:
        assert main_of[ident(master)] == int(master.findtext("main_release"))
        assert {int(e) for e in master.xpath("artists/artist/id/text()")} <= artists
    assert set(main_of) == masters
    for artist in recs["artists"]:
        assert {int(e.get("id")) for e in artist.xpath("aliases/name|members/name|groups/name")} <= artists
    for label in recs["labels"]:
        assert {int(e.get("id")) for e in label.xpath("parentLabel|sublabels/label")} <= labels


def test_references_are_closed(dumps: DumpSet) -> None:
    check_closed(dumps)


def test_shared_structure_with_real_fixture(dumps: DumpSet, fixtures_dir: Path) -> None:
    """Every element path the synthetic files use also occurs in the real 2025/26 samples."""
    def paths(root: etree._Element) -> set[str]:
        tree = root.getroottree()
        return {re.sub(r"\[\d+\]", "", tree.getpath(el)) for el in root.iter()}

    for kind in ("releases", "masters", "artists", "labels"):
        real = paths(etree.parse(str(fixtures_dir / f"{kind}-sample-tgmz-2025-2026.xml")).getroot())
        synthetic = paths(etree.fromstring(raw(dumps.files[kind]).encode()))
        assert synthetic <= real, sorted(synthetic - real)


def test_same_arguments_give_identical_bytes(dumps: DumpSet, tmp_path: Path) -> None:
    again = write_dump_set(tmp_path / "again", N, seed=7)
    for kind, path in dumps.files.items():
        assert again.files[kind].read_bytes() == path.read_bytes(), kind
    other = write_dump_set(tmp_path / "other", N, seed=8)
    assert other.releases.read_bytes() != dumps.releases.read_bytes()


def test_worker_processes_do_not_change_the_bytes(tmp_path: Path) -> None:
    n = 2500  # several chunks per file
    alone = write_dump_set(tmp_path / "one", n, workers=1)
    pooled = write_dump_set(tmp_path / "two", n, workers=2)
    assert alone.checksum.read_text() == pooled.checksum.read_text()
    assert alone.counts == pooled.counts


def test_revisions_change_remove_and_append_a_few_records(tmp_path: Path) -> None:
    n = 4000
    old = write_dump_set(tmp_path / "r0", n, seed=3)
    new = write_dump_set(tmp_path / "r1", n, seed=3, revision=1, dump_date="20260401")
    assert new.releases.name == "discogs_20260401_releases.xml.gz"
    for kind in ("releases", "masters", "artists", "labels"):
        tag = kind[:-1]
        before, after = record_texts(old.files[kind], tag), record_texts(new.files[kind], tag)
        assert len(before) == old.counts[kind] and len(after) == new.counts[kind]
        removed = before.keys() - after.keys()
        added = after.keys() - before.keys()
        changed = [i for i in before.keys() & after.keys() if before[i] != after[i]]
        share = len(before)
        assert 0.002 * share <= len(removed) <= 0.025 * share, (kind, len(removed))
        assert 0.008 * share <= len(changed) <= 0.04 * share, (kind, len(changed))
        assert 0.008 * share <= len(added) <= 0.025 * share, (kind, len(added))
        assert min(added) > max(before)
    check_closed(new)
    # Revision 2 continues revision 1: what is gone stays gone, and ids keep growing.
    newer = write_dump_set(tmp_path / "r2", n, seed=3, revision=2)
    r1, r2 = record_texts(new.releases, "release"), record_texts(newer.releases, "release")
    gone = record_texts(old.releases, "release").keys() - r1.keys()
    assert gone and not gone & r2.keys()
    assert max(r2) > max(r1)


def test_churn_sets_what_a_revision_changes_removes_and_appends(tmp_path: Path) -> None:
    """The benchmark's month (2 % changed, 0.4 % deleted, 0.5 % new) rather than the default 2 / 1 / 1 %."""
    n = 8000
    churn = Churn(change=0.02, remove=0.004, new=0.005)
    old = write_dump_set(tmp_path / "r0", n, seed=3, profile="discogs")
    new = write_dump_set(tmp_path / "r1", n, seed=3, revision=1, profile="discogs", churn=churn)
    check_closed(new)
    for kind in ("releases", "masters", "artists", "labels"):
        tag = kind[:-1]
        before, after = record_texts(old.files[kind], tag), record_texts(new.files[kind], tag)
        removed, added = before.keys() - after.keys(), after.keys() - before.keys()
        changed = [i for i in before.keys() & after.keys() if before[i] != after[i]]
        share = len(before)
        assert len(added) == max(1, round(min(n, share) * churn.new)), kind
        assert 0.001 * share <= len(removed) <= 0.008 * share, (kind, len(removed))
        assert 0.012 * share <= len(changed) <= 0.03 * share, (kind, len(changed))


@pytest.mark.parametrize("n", [1, 3, 4, 9])
def test_tiny_sets_stay_closed_over_revisions(tmp_path: Path, n: int) -> None:
    for revision in (0, 2):
        d = write_dump_set(tmp_path / f"r{revision}", n, revision=revision)
        assert d.release_count >= 1 and (d.master_count == 0) == (n < 4)
        check_closed(d)


def test_arguments_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_dump_set(tmp_path, 0)
    with pytest.raises(ValueError):
        write_dump_set(tmp_path, 10, dump_date="2026-03-01")
    with pytest.raises(ValueError, match="unknown profile"):
        write_dump_set(tmp_path, 10, profile="real")


@pytest.fixture(scope="module")
def discogs(tmp_path_factory: pytest.TempPathFactory) -> DumpSet:
    return write_dump_set(tmp_path_factory.mktemp("discogs"), 3000, seed=5, profile="discogs")


def test_discogs_profile_xml_holds_the_benchmarks_records(discogs: DumpSet) -> None:
    """What the index reads of each synthetic release is exactly the record the benchmarks index for the same slot:
    the XML synth and bench/query.py describe one catalogue."""
    catalogue = Catalogue(5, 3000)
    expected = {record["id"]: record for record in (catalogue.release(slot)[1] for slot in range(3000))}
    parsed = [item.record for item in iter_records(discogs.releases)]
    assert len(parsed) == len(expected) == discogs.release_count
    for record in parsed:
        want = expected[record["id"]]
        assert release_facets(record) == release_facets(want)
        assert [v for v, _ in release_videos(record)] == [v["youtube_id"] for v in want["videos"]]
        assert (record["master_id"] or None) == want["master_id"]
    masters = {item.record["id"]: item.record for item in iter_records(discogs.masters)}
    assert len(masters) == catalogue.plan.n_masters
    for master in range(catalogue.plan.n_masters):
        want = catalogue.master(master)
        assert [v for v, _ in release_videos(masters[want["id"]])] == [v["youtube_id"] for v in want["videos"]]


def test_discogs_profile_is_closed_with_unique_names(discogs: DumpSet) -> None:
    check_closed(discogs)
    recs = all_records(discogs)
    for kind in ("artists", "labels"):
        names = [r.findtext("name") for r in recs[kind]]
        assert len(set(names)) == len(names), kind
    # Releases of one master share its videos: some video is listed by several releases.
    listed = Counter(v.get("src") for r in recs["releases"] for v in r.iterfind("videos/video"))
    assert max(listed.values()) >= 3
    assert discogs.counts["artists"] == round(3000 * 10_203_002 / 19_417_067)


def test_discogs_profile_revisions_stay_closed(tmp_path: Path) -> None:
    n = 4000
    old = write_dump_set(tmp_path / "r0", n, seed=3, profile="discogs")
    new = write_dump_set(tmp_path / "r1", n, seed=3, revision=1, profile="discogs")
    check_closed(new)
    before, after = record_texts(old.releases, "release"), record_texts(new.releases, "release")
    assert 0.002 * n <= len(before.keys() - after.keys()) <= 0.025 * n
    assert min(after.keys() - before.keys()) > max(before)
    for n in (1, 3, 9):
        for revision in (0, 2):
            check_closed(write_dump_set(tmp_path / f"tiny{n}-{revision}", n, revision=revision, profile="discogs"))


def test_cli_writes_the_set_and_prints_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    settings = Settings(download_dir=tmp_path)
    args = parser.parse_args(["synth", "--releases", "40", "--date", "20260201"])
    assert run(args, settings) == 0
    out = capsys.readouterr().out
    for kind in ("artists", "labels", "masters", "releases"):
        path = tmp_path / "synth" / f"discogs_20260201_{kind}.xml.gz"  # default: <download dir>/synth
        assert path.exists() and str(path) in out
    assert "discogs_20260201_CHECKSUM.txt" in out
    bad = parser.parse_args(["synth", "--releases", "0", "--out", str(tmp_path / "x")])
    assert run(bad, settings) == 2
    shaped = parser.parse_args(["synth", "--releases", "40", "--profile", "discogs", "--out", str(tmp_path / "d")])
    assert run(shaped, settings) == 0
    assert (tmp_path / "d" / "discogs_20260301_releases.xml.gz").read_bytes() != path.read_bytes()


def test_crc32_combine_matches_zlib() -> None:
    a, b = b"<releases>\n" * 1000, "Björk – 坂本龍一\n".encode() * 777
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)
    assert crc32_combine(0, zlib.crc32(b), len(b)) == zlib.crc32(b)


def test_pieces_form_one_plain_gzip_member(tmp_path: Path) -> None:
    texts = ["<a>\n", "x" * 100_000 + "\n", "y\n</a>\n"]
    pieces = [compress_piece(t, 1, level=1, last=i == len(texts) - 1) for i, t in enumerate(texts)]
    path = tmp_path / "t.xml.gz"
    records, digest = write_pieces(path, pieces)
    data = path.read_bytes()
    assert records == 3 and digest == hashlib.sha256(data).hexdigest()
    one_member = zlib.decompressobj(31)  # a single-member reader: must see everything, and nothing after
    assert one_member.decompress(data) == "".join(texts).encode()
    assert one_member.eof and not one_member.unused_data
    assert gzip.decompress(data) == "".join(texts).encode()
