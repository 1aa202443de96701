import hashlib

import pytest

from producers.dump_fetch import DumpFetcher, latest_verified, parse_checksums, verified_hashes
from producers.dump_http import DumpSiteError, Fetcher, NotFound, RetryPolicy, open_client
from tests.fakes.dump_site import FakeDumpSite, corrupt, cut, dump_file, sha256

DUMP = "20260115"
RELEASES = f"discogs_{DUMP}_releases.xml.gz"
LABELS = f"discogs_{DUMP}_labels.xml.gz"


@pytest.fixture
def site():
    with FakeDumpSite() as fake:
        fake.add_dump(DUMP)
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def dumps(site, tmp_path, sleeps):
    with open_client() as client:
        yield DumpFetcher(Fetcher(client, RetryPolicy(attempts=3), sleeps.append), site.url, tmp_path / "out")


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_parse_checksums_reads_discogs_and_sha256sum_lines():
    a, b = "a" * 64, "B" * 64
    text = f"{a} discogs_1_artists.xml.gz\n{b}  *discogs_1_labels.xml.gz\n\nnot a line\n"
    assert parse_checksums(text) == {"discogs_1_artists.xml.gz": a, "discogs_1_labels.xml.gz": "b" * 64}


def test_downloads_verified_files_and_records_them(dumps, site, tmp_path):
    paths = dumps.fetch(DUMP, ("labels", "releases"))
    out = tmp_path / "out" / DUMP
    assert paths == [out / LABELS, out / RELEASES]
    assert (out / RELEASES).read_bytes() == dump_file(DUMP, "releases")
    # the local CHECKSUM lists exactly what was verified, in Discogs' one-space format
    assert (out / f"discogs_{DUMP}_CHECKSUM.txt").read_text() == (
        f"{sha256(site.files[LABELS])} {LABELS}\n{sha256(site.files[RELEASES])} {RELEASES}\n"
    )
    assert leftovers(out) == []
    assert site.downloads(f"discogs_{DUMP}_artists.xml.gz") == 0


def test_skips_files_already_verified(dumps, site):
    dumps.fetch(DUMP, ("releases",))
    dumps.fetch(DUMP, ("labels", "releases"))
    assert site.downloads(RELEASES) == 1
    assert site.downloads(LABELS) == 1


def test_a_deleted_file_is_fetched_again(dumps, site, tmp_path):
    dumps.fetch(DUMP, ("releases",))
    (tmp_path / "out" / DUMP / RELEASES).unlink()
    assert dumps.plan(DUMP, ("releases",)).todo == ("releases",)
    dumps.fetch(DUMP, ("releases",))
    assert site.downloads(RELEASES) == 2


def test_a_cut_transfer_restarts_the_file(dumps, site, tmp_path, sleeps):
    site.fail(RELEASES, cut(len(site.files[RELEASES]) // 2))
    (path,) = dumps.fetch(DUMP, ("releases",))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256(site.files[RELEASES])
    assert site.downloads(RELEASES) == 2
    assert len(sleeps) == 1
    assert leftovers(path.parent) == []


def test_a_bad_transfer_is_downloaded_again(dumps, site):
    site.fail(RELEASES, corrupt())
    (path,) = dumps.fetch(DUMP, ("releases",))
    assert path.read_bytes() == site.files[RELEASES]
    assert site.downloads(RELEASES) == 2


def test_a_wrong_checksum_fails_clearly_and_leaves_nothing(dumps, site, tmp_path):
    site.write_checksum(DUMP, wrong=(RELEASES,))
    with pytest.raises(DumpSiteError, match=rf"{RELEASES}: SHA-256 [0-9a-f]{{64}} but CHECKSUM says 0{{64}}, after 3"):
        dumps.fetch(DUMP, ("releases",))
    out = tmp_path / "out" / DUMP
    assert not (out / RELEASES).exists()
    assert leftovers(out) == []
    assert verified_hashes(tmp_path / "out", DUMP) == {}


def test_a_file_replaced_during_the_download_is_verified_against_the_new_checksum(dumps, site):
    plan = dumps.plan(DUMP, ("releases",))
    new = site.replace(DUMP, "releases")
    assert plan.expected["releases"] != sha256(new)
    site.fail(RELEASES, corrupt())  # the first download still has bytes matching neither CHECKSUM
    (path,) = dumps.fetch(DUMP, ("releases",))
    assert path.read_bytes() == new


def test_a_file_replaced_later_is_fetched_again_and_only_that_one(dumps, site, tmp_path):
    dumps.fetch(DUMP, ("labels", "releases"))
    new = site.replace(DUMP, "releases")
    assert dumps.plan(DUMP, ("labels", "releases")).todo == ("releases",)
    dumps.fetch(DUMP, ("labels", "releases"))
    assert (tmp_path / "out" / DUMP / RELEASES).read_bytes() == new
    assert site.downloads(LABELS) == 1 and site.downloads(RELEASES) == 2
    assert verified_hashes(tmp_path / "out", DUMP)[RELEASES] == sha256(new)


def test_a_dump_without_checksum_is_not_found(dumps, site):
    site.add_dump("20260201", checksum=False)
    with pytest.raises(NotFound, match="discogs_20260201_CHECKSUM.txt"):
        dumps.fetch("20260201", ("releases",))


def test_a_checksum_missing_a_type_is_an_error(dumps, site):
    site.add_dump("20260201", ("artists",))
    with pytest.raises(DumpSiteError, match="discogs_20260201_CHECKSUM.txt: lists no discogs_20260201_masters"):
        dumps.plan("20260201", ("masters",))


def test_latest_verified_needs_every_requested_type(dumps, site, tmp_path):
    out = tmp_path / "out"
    assert latest_verified(out, ("releases",)) is None
    site.add_dump("20260201")
    dumps.fetch(DUMP, ("labels", "releases"))
    dumps.fetch("20260201", ("labels",))
    assert latest_verified(out, ("labels",)) == "20260201"
    assert latest_verified(out, ("labels", "releases")) == DUMP
    assert latest_verified(out, ("artists",)) is None
