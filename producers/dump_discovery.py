"""Where the Discogs dumps are, and which one is the newest complete dump.

Discovery reads the site's own listing instead of probing URLs, because the listing is established by evidence
(public code of several Discogs dump tools, 2025-2026):
- The S3 bucket `discogs-data-dumps` now denies anonymous `s3:ListBucket` (AccessDenied), so the ListObjects XML
  (`?prefix=data/2024/&delimiter=/`) that older scripts read is gone, and direct GetObject is refused too.
- data.discogs.com is an HTML browser over that bucket: `/?prefix=data%2F{YYYY}%2F` is one page per year, a `<pre>`
  table with one row per object, `{Last Modified}  {Size}  <a href="?download=data%2F{YYYY}%2F{name}">{name}</a>`
  (e.g. `2026-10-01 19:36:11   388 B   ...discogs_20261001_CHECKSUM.txt`), and `/?download={key}` serves the file.
One listing request per year finds a dump published on any day (January 2026 appeared on the 15th), where probing
would cost ~60 CHECKSUM requests a run. A dump is complete once its CHECKSUM is listed: Discogs writes it last.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

DUMP_TYPES = ("artists", "labels", "masters", "releases")
CHECKSUM = "CHECKSUM"

_LINK = re.compile(
    r'href="\?download=data%2F(?P<year>\d{4})%2Fdiscogs_(?P<id>\d{8})_'
    r'(?:(?P<type>artists|labels|masters|releases)\.xml\.gz|(?P<sum>CHECKSUM)\.txt)"'
)
_ROW_MODIFIED = re.compile(r"\s*(?P<modified>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s")


class ListingError(Exception):
    """The listing page carries no dump links at all: the site changed or answered with something else."""


def is_dump_id(value: str) -> bool:
    """True for a real calendar date written YYYYMMDD."""
    try:
        datetime.strptime(value, "%Y%m%d")
    except ValueError:
        return False
    return len(value) == 8


def file_name(dump_id: str, kind: str) -> str:
    """`discogs_{id}_{type}.xml.gz`, or `discogs_{id}_CHECKSUM.txt` for kind CHECKSUM."""
    return f"discogs_{dump_id}_CHECKSUM.txt" if kind == CHECKSUM else f"discogs_{dump_id}_{kind}.xml.gz"


def _base(base_url: str) -> str:
    return base_url.rstrip("/") + "/"


def download_url(base_url: str, dump_id: str, kind: str) -> str:
    key = f"data/{dump_id[:4]}/{file_name(dump_id, kind)}"
    return f"{_base(base_url)}?download={quote(key, safe='')}"


def listing_url(base_url: str, year: int) -> str:
    return f"{_base(base_url)}?prefix={quote(f'data/{year}/', safe='')}"


@dataclass(frozen=True)
class ListedFile:
    name: str
    modified: str | None  # as the listing prints it, None when the row has no date


@dataclass(frozen=True)
class ListedDump:
    dump_id: str
    files: Mapping[str, ListedFile]  # by kind: a dump type or CHECKSUM

    def complete(self, types: Iterable[str]) -> bool:
        return CHECKSUM in self.files and all(t in self.files for t in types)


def parse_listing(html: str, year: int) -> list[ListedDump]:
    """The dumps a year page lists, newest first. Links to other years, bad dates and duplicates are ignored."""
    found: dict[str, dict[str, ListedFile]] = {}
    for line in html.splitlines():
        for link in _LINK.finditer(line):
            dump_id = link["id"]
            if int(link["year"]) != year or dump_id[:4] != link["year"] or not is_dump_id(dump_id):
                continue
            kind = link["type"] or CHECKSUM
            modified = _ROW_MODIFIED.match(line)
            files = found.setdefault(dump_id, {})
            files.setdefault(kind, ListedFile(file_name(dump_id, kind), modified["modified"] if modified else None))
    return [ListedDump(i, found[i]) for i in sorted(found, reverse=True)]


def newest_complete(
    get_text: Callable[[str], str], base_url: str, types: Iterable[str], today: date
) -> ListedDump | None:
    """The newest dump whose CHECKSUM and requested types are all listed, looking at this year, then the last.

    The previous year matters until the first dump of a year appears (mid-January in 2026).
    """
    types = tuple(types)
    any_links = False
    for year in (today.year, today.year - 1):
        dumps = parse_listing(get_text(listing_url(base_url, year)), year)
        any_links = any_links or bool(dumps)
        for dump in dumps:
            if dump.complete(types):
                return dump
    if not any_links:
        raise ListingError(f"no dump links in the listings of {today.year - 1}-{today.year} at {_base(base_url)}")
    return None
