from datetime import date

import pytest

from producers.dump_discovery import (
    CHECKSUM,
    ListingError,
    download_url,
    file_name,
    is_dump_id,
    listing_url,
    newest_complete,
    parse_listing,
)

# The shape data.discogs.com serves for a year (rows trimmed), plus links that must be ignored.
YEAR_2026 = """<html><body><h2>Discogs Data</h2>
    <pre>Last Modified                   Size           Name
-----------------------------------------------------------------------------------------------
                                               <a href="?prefix=data%2F">../</a>
2026-01-15 19:31:21             388 B          <a href="?download=data%2F2026%2Fdiscogs_20260115_CHECKSUM.txt">discogs_20260115_CHECKSUM.txt</a>
2026-01-15 19:31:20             474.1 MB       <a href="?download=data%2F2026%2Fdiscogs_20260115_artists.xml.gz">discogs_20260115_artists.xml.gz</a>
2026-01-15 09:01:19             87.0 MB        <a href="?download=data%2F2026%2Fdiscogs_20260115_labels.xml.gz">discogs_20260115_labels.xml.gz</a>
2026-01-15 11:24:06             600.5 MB       <a href="?download=data%2F2026%2Fdiscogs_20260115_masters.xml.gz">discogs_20260115_masters.xml.gz</a>
2026-01-15 19:21:51             10.5 GB        <a href="?download=data%2F2026%2Fdiscogs_20260115_releases.xml.gz">discogs_20260115_releases.xml.gz</a>
2026-02-01 16:36:15             475.7 MB       <a href="?download=data%2F2026%2Fdiscogs_20260201_artists.xml.gz">discogs_20260201_artists.xml.gz</a>
<a href="?download=data%2F2026%2Fdiscogs_20260115_releases.xml.gz">duplicate</a>
<a href="?download=data%2F2026%2F..%2F..%2Fetc%2Fpasswd">traversal</a>
<a href="?download=data%2F2026%2Fdiscogs_20261341_releases.xml.gz">bad date</a>
<a href="?download=data%2F2025%2Fdiscogs_20251201_releases.xml.gz">other year</a>
</pre></body></html>"""  # noqa: E501 - real rows are long


def year_page(*rows: str) -> str:
    links = "".join(f'<a href="?download=data%2F{r[8:12]}%2F{r}">{r}</a>\n' for r in rows)
    return f"<html><body><pre>{links}</pre></body></html>"


def complete(dump_id: str) -> list[str]:
    return [file_name(dump_id, k) for k in ("artists", "labels", "masters", "releases", CHECKSUM)]


def pages(listings: dict[int, str], asked: list[int] | None = None):
    def get_text(url: str) -> str:
        year = int(url.split("data%2F")[1][:4])
        if asked is not None:
            asked.append(year)
        return listings.get(year, "<html><body><pre></pre></body></html>")

    return get_text


def test_urls_have_the_real_shapes():
    base = "https://data.discogs.com/"
    assert download_url(base, "20260115", "releases") == (
        "https://data.discogs.com/?download=data%2F2026%2Fdiscogs_20260115_releases.xml.gz"
    )
    assert download_url("http://127.0.0.1:9", "20260115", CHECKSUM) == (
        "http://127.0.0.1:9/?download=data%2F2026%2Fdiscogs_20260115_CHECKSUM.txt"
    )
    assert listing_url(base, 2026) == "https://data.discogs.com/?prefix=data%2F2026%2F"


def test_is_dump_id_wants_a_real_date():
    assert is_dump_id("20260115")
    assert not is_dump_id("20261341")
    assert not is_dump_id("2026011")
    assert not is_dump_id("202601150")


def test_parse_listing_reads_rows_and_ignores_junk():
    dumps = parse_listing(YEAR_2026, 2026)
    assert [d.dump_id for d in dumps] == ["20260201", "20260115"]
    jan = dumps[1]
    assert sorted(jan.files) == sorted(["artists", "labels", "masters", "releases", CHECKSUM])
    assert jan.files["releases"].modified == "2026-01-15 19:21:51"  # the first row wins over the duplicate
    assert jan.files[CHECKSUM].name == "discogs_20260115_CHECKSUM.txt"
    assert jan.complete(["releases"]) and jan.complete(["artists", "labels", "masters", "releases"])
    assert not dumps[0].complete(["artists"])  # no CHECKSUM yet: still being uploaded


def test_newest_complete_finds_a_mid_month_dump_and_skips_one_without_checksum():
    found = newest_complete(pages({2026: YEAR_2026}), "https://x/", ["releases"], date(2026, 2, 3))
    assert found is not None and found.dump_id == "20260115"


def test_newest_complete_only_needs_the_requested_types():
    page = year_page(*complete("20260101"), "discogs_20260201_masters.xml.gz", "discogs_20260201_CHECKSUM.txt")
    get = pages({2026: page})
    assert newest_complete(get, "https://x/", ["masters"], date(2026, 2, 9)).dump_id == "20260201"
    assert newest_complete(get, "https://x/", ["releases"], date(2026, 2, 9)).dump_id == "20260101"


def test_newest_complete_looks_back_a_year_until_january_is_out():
    asked: list[int] = []
    found = newest_complete(pages({2025: year_page(*complete("20251201"))}, asked), "https://x/",
                            ["artists"], date(2026, 1, 7))
    assert found is not None and found.dump_id == "20251201"
    assert asked == [2026, 2025]


def test_newest_complete_does_not_read_last_year_when_this_year_has_one():
    asked: list[int] = []
    newest_complete(pages({2026: year_page(*complete("20260101"))}, asked), "https://x/", ["artists"],
                    date(2026, 3, 7))
    assert asked == [2026]


def test_newest_complete_is_none_when_nothing_is_complete():
    page = year_page("discogs_20260101_releases.xml.gz")
    assert newest_complete(pages({2026: page}), "https://x/", ["releases"], date(2026, 1, 2)) is None


def test_a_page_without_any_dump_links_is_an_error():
    with pytest.raises(ListingError, match="no dump links"):
        newest_complete(pages({}), "https://x/", ["releases"], date(2026, 1, 2))
