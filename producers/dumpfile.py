"""Streaming reader of Discogs dump files: plain or gzipped XML, one depth-1 element per record.

Memory stays constant however large the file: each record is cleared once the caller has moved on, and the
already-handled siblings are detached from the root.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from lxml import etree

ENTITIES = ("releases", "masters", "artists", "labels")
# Root tag -> record tag.
RECORD_TAGS = {"releases": "release", "masters": "master", "artists": "artist", "labels": "label"}

GZIP_MAGIC = b"\x1f\x8b"
# lxml pulls from file objects in small reads; a larger buffer halves the Python-level calls.
READ_BUFFER = 1 << 20
DUMP_VERSION = re.compile(r"(?<!\d)(\d{8})(?!\d)")

# Errors that a damaged file produces while streaming: bad XML, bad or truncated gzip, unreadable file.
STREAM_ERRORS = (etree.XMLSyntaxError, gzip.BadGzipFile, EOFError, zlib.error, OSError)


class DumpFileError(Exception):
    """The dump file cannot be read to its end (corrupt gzip, truncated file, malformed XML, wrong root)."""


def open_dump(path: Path | str) -> BinaryIO:
    """Binary stream of the XML; gzip is recognised by its magic bytes, whatever the file is called."""
    path = Path(path)
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb", buffering=READ_BUFFER)


def _iterparse(
    source: BinaryIO, events: tuple[Literal["start", "end"], ...], tag: str | None = None
) -> etree.iterparse:
    # No DTD, no entity resolution, no network. huge_tree: a single very long text node (notes, profiles) in a
    # trusted 60 GB file must not abort the whole ingest on libxml2's default 10 MB limit.
    return etree.iterparse(
        source, events=events, tag=tag, huge_tree=True, resolve_entities=False, no_network=True, load_dtd=False
    )


def detect_entity(path: Path | str) -> str:
    """The entity of the dump (`releases|masters|artists|labels`) read from its root element."""
    path = Path(path)
    try:
        with open_dump(path) as source:
            for _, root in _iterparse(source, ("start",)):
                tag: str = root.tag
                break
            else:
                raise DumpFileError(f"{path.name}: no root element")
    except STREAM_ERRORS as exc:
        raise DumpFileError(f"{path.name}: cannot read the root element: {exc}") from exc
    if tag not in RECORD_TAGS:
        raise DumpFileError(f"{path.name}: root element <{tag}> is not one of {', '.join(ENTITIES)}")
    return tag


def dump_version_from_path(path: Path | str) -> str | None:
    """The `YYYYMMDD` date in the file name (`discogs_20260301_releases.xml.gz`), or None."""
    match = DUMP_VERSION.search(Path(path).name)
    return match.group(1) if match else None


def iter_elements(path: Path | str) -> Iterator[tuple[str, etree._Element]]:
    """Yields `(entity, record_element)` for each depth-1 record, in file order.

    The element is valid until the next item is requested; it is cleared afterwards. Raises DumpFileError
    (with the number of records read) when the file is damaged; nothing is swallowed.
    """
    path = Path(path)
    entity = detect_entity(path)
    record_tag = RECORD_TAGS[entity]
    count = 0
    try:
        with open_dump(path) as source:
            for _, elem in _iterparse(source, ("end",), record_tag):
                parent = elem.getparent()
                # Records sit directly under the root; `<label>` also occurs inside `<sublabels>` and must be
                # left intact for its outer record.
                if parent is None or parent.getparent() is not None:
                    continue
                count += 1
                yield entity, elem
                elem.clear(keep_tail=False)
                while elem.getprevious() is not None:
                    del parent[0]
    except STREAM_ERRORS as exc:
        raise DumpFileError(f"{path.name}: unreadable after {count} {entity} records: {exc}") from exc
