import argparse
from datetime import date

import pytest

from dataget.commands import download
from runtime.settings import Settings
from tests.fakes.dump_site import FakeDumpSite, rate_limited, server_error

TODAY = date(2026, 1, 20)


@pytest.fixture
def site():
    with FakeDumpSite() as fake:
        fake.add_dump("20251201")
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def cli(site, tmp_path, sleeps, capsys):
    parser = argparse.ArgumentParser()
    download.register(parser.add_subparsers())
    settings = Settings(dump_base_url=site.url, download_dir=tmp_path / "dumps")

    def run(*argv: str):
        args = parser.parse_args(["download", *argv])
        code = args.func(args, settings, sleep=sleeps.append, today=TODAY)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_downloads_the_newest_complete_dump_and_prints_paths(cli, site, tmp_path):
    site.add_dump("20260115")  # January came out late
    site.add_dump("20260201", checksum=False)  # still uploading (listed early to test the marker)
    code, out, _ = cli("--types", "releases,labels")
    assert code == 0
    folder = tmp_path / "dumps" / "20260115"
    assert out.split() == [str(folder / "discogs_20260115_labels.xml.gz"),
                           str(folder / "discogs_20260115_releases.xml.gz")]
    assert (folder / "discogs_20260115_releases.xml.gz").read_bytes() == site.files["discogs_20260115_releases.xml.gz"]


def test_out_and_dump_choose_where_and_what(cli, site, tmp_path):
    site.add_dump("20260115")
    code, out, _ = cli("--dump", "20251201", "--types", "masters", "--out", str(tmp_path / "elsewhere"))
    assert code == 0
    assert out.strip() == str(tmp_path / "elsewhere" / "20251201" / "discogs_20251201_masters.xml.gz")


def test_check_says_whether_a_new_complete_dump_exists(cli, site):
    code, out, _ = cli("--check", "--types", "artists")
    assert code == 0 and out.startswith("new dump 20251201: 1 file(s) to download (artists); have none")
    assert cli("--types", "artists")[0] == 0
    code, out, _ = cli("--check", "--types", "artists")
    assert code == 1 and "20251201 is already verified" in out
    site.add_dump("20260115", checksum=False)
    assert cli("--check", "--types", "artists")[0] == 1
    site.write_checksum("20260115")
    code, out, _ = cli("--check", "--types", "artists")
    assert code == 0 and "new dump 20260115" in out and "have 20251201" in out


def test_check_reports_a_reuploaded_file(cli, site):
    cli("--types", "masters")
    site.replace("20251201", "masters")
    code, out, _ = cli("--check", "--types", "masters")
    assert code == 0 and "new dump 20251201: 1 file(s) to download (masters)" in out


def test_check_of_a_named_dump_without_checksum_exits_1(cli, site):
    code, out, _ = cli("--check", "--dump", "20260115")
    assert code == 1 and "discogs_20260115_CHECKSUM.txt: not found" in out


def test_download_of_a_missing_dump_fails_naming_the_file(cli):
    code, _, err = cli("--dump", "20260115")
    assert code == download.EXIT_FAILED
    assert "discogs_20260115_CHECKSUM.txt: not found" in err


def test_a_wrong_checksum_fails_naming_file_and_reason(cli, site):
    site.write_checksum("20251201", wrong=("discogs_20251201_labels.xml.gz",))
    code, out, err = cli("--types", "labels")
    assert code == download.EXIT_FAILED and out == ""
    assert "discogs_20251201_labels.xml.gz: SHA-256" in err and "but CHECKSUM says" in err


def test_rate_limits_are_honoured_and_a_failing_server_is_an_error(cli, site, sleeps):
    site.fail("listing", rate_limited("600"))
    site.fail("discogs_20251201_labels.xml.gz", *[server_error(503)] * 8)
    code, _, err = cli("--types", "labels")
    assert sleeps[0] == 600
    assert code == download.EXIT_FAILED
    assert "discogs_20251201_labels.xml.gz: gave up after 8 attempts; last: server error (HTTP 503)" in err


def test_nothing_listed_at_all_is_an_error(cli, site):
    site.files.clear()
    code, _, err = cli()
    assert code == download.EXIT_FAILED and "no dump links" in err


@pytest.mark.parametrize("argv", [["--types", "releases,tracks"], ["--types", ""], ["--dump", "20261341"]])
def test_bad_arguments_are_refused(cli, argv):
    with pytest.raises(SystemExit):
        cli(*argv)
