"""Cut a dump into blocks of whole records without parsing it, so several processes can parse in parallel.

In the dump byte stream a `<` is always markup (text has `&lt;`), so the start tag of a record (`<release `,
`<release>`) can be found with a plain byte search. That holds for releases, masters and artists, whose record
tag never occurs nested; labels nest `<label>` inside `<sublabels>` and are read sequentially instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from producers.dumpfile import RECORD_TAGS, STREAM_ERRORS, DumpFileError, open_dump
from producers.records import RecordItem, item_of

SPLITTABLE = ("releases", "masters", "artists")
BLOCK = 1 << 20


def _starts(record_tag: str) -> tuple[bytes, bytes]:
    return f"<{record_tag} ".encode(), f"<{record_tag}>".encode()


def _last_start(buffer: bytes, starts: tuple[bytes, bytes], after: int) -> int:
    return max(buffer.rfind(start, after) for start in starts)


def _first_start(buffer: bytes, starts: tuple[bytes, bytes]) -> int:
    found = [i for i in (buffer.find(start) for start in starts) if i >= 0]
    return min(found) if found else -1


def raw_blocks(path: Path, entity: str, block_size: int = BLOCK) -> Iterator[bytes]:
    """Byte blocks holding whole record elements only (no root tags), in file order."""
    starts = _starts(RECORD_TAGS[entity])
    root_end = f"</{entity}>".encode()
    buffer = b""
    began = False
    try:
        with open_dump(path) as source:
            while chunk := source.read(block_size):
                buffer += chunk
                if not began:
                    first = _first_start(buffer, starts)
                    if first < 0:
                        continue
                    buffer, began = buffer[first:], True
                cut = _last_start(buffer, starts, 1)
                if cut > 0:
                    yield buffer[:cut]
                    buffer = buffer[cut:]
    except STREAM_ERRORS as exc:
        raise DumpFileError(f"{path.name}: unreadable: {exc}") from exc
    end = buffer.rfind(root_end)
    if began and end < 0:
        raise DumpFileError(f"{path.name}: ends without </{entity}> (truncated file)")
    if began:
        yield buffer[:end]


def parse_block(entity: str, block: bytes, name: str = "dump") -> list[RecordItem]:
    """The records of one block (see raw_blocks); a malformed block raises DumpFileError."""
    parser = etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(b"<%s>%s</%s>" % (entity.encode(), block, entity.encode()), parser)
    except etree.XMLSyntaxError as exc:
        raise DumpFileError(f"{name}: malformed XML: {exc}") from exc
    # Comments between records are nodes too; only elements are records.
    return [item_of(entity, elem) for elem in root if isinstance(elem.tag, str)]
