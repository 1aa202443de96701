"""XML record element -> the record's JSON (shapes in schemas/records.py and schemas/README.md).

One pass over each element's children, writing the JSON in C (record_tree.pyx). Every child is optional;
absent, empty and whitespace-only values are all None (scalars) or [] (lists). Foreign ids of 0 mean "no link" and
become None. Values the format defines as integers (ids, counts, sizes, durations) must be integers: otherwise the
record is malformed and the caller dead-letters it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
from lxml import etree

from producers import record_tree
from producers import records_fields as f
from producers.dumpfile import iter_elements
from producers.records_fields import Element
from schemas.records import Record

EXCERPT_LIMIT = 2000
# Ids are keys in Kafka, `_id`s in Mongo and numbers in JSON: they must fit a signed 64-bit integer.
MAX_ID = 2**63


class RecordError(Exception):
    """An element that cannot become a valid record (missing or non-integer id, broken structure)."""

    def __init__(self, entity: str, record_id: int | None, reason: str) -> None:
        super().__init__(f"{entity} {record_id if record_id is not None else '?'}: {reason}")
        self.entity = entity
        self.record_id = record_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordItem:
    """One depth-1 element of a dump: a record's JSON, or the error (and an XML excerpt) that kept it from being one."""

    entity: str
    record_id: int | None
    value: bytes | None
    error: RecordError | None = None
    excerpt: str | None = None

    @property
    def record(self) -> Record | None:
        return None if self.value is None else orjson.loads(self.value)


def excerpt(elem: Element, limit: int = EXCERPT_LIMIT) -> str:
    """The element serialised as XML, cut to at most `limit` characters (for dead letters)."""
    text = etree.tostring(elem, encoding="unicode", with_tail=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# entity -> (writer of the record's JSON, id is an attribute of the record element rather than an `<id>` child)
ENTITY_WRITERS: dict[str, tuple[Callable[[Element, int], bytes], bool]] = {
    "releases": (record_tree.release, True),
    "masters": (record_tree.master, True),
    "artists": (record_tree.artist, False),
    "labels": (record_tree.label, False),
}


def record_id_of(entity: str, elem: Element) -> int:
    """The record's own id (`@id` of releases and masters, `<id>` of artists and labels); RecordError if bad."""
    raw = elem.get("id") if ENTITY_WRITERS[entity][1] else elem.findtext("id")
    value = f.attr(raw)
    if value is None:
        raise RecordError(entity, None, "missing id")
    try:
        record_id = int(value)
    except ValueError:
        raise RecordError(entity, None, f"id is not an integer: {value[:50]!r}") from None
    if record_id <= 0:
        raise RecordError(entity, None, f"id is not positive: {record_id}")
    if record_id >= MAX_ID:
        raise RecordError(entity, None, f"id is out of range: {value[:50]}")
    return record_id


def to_json(entity: str, elem: Element) -> tuple[int, bytes]:
    """The id and JSON of one record element of the `entity` dump (what is published). Raises RecordError."""
    if entity not in ENTITY_WRITERS:
        raise ValueError(f"unknown entity {entity!r}")
    record_id = record_id_of(entity, elem)
    try:
        return record_id, ENTITY_WRITERS[entity][0](elem, record_id)
    except ValueError as exc:
        raise RecordError(entity, record_id, str(exc)) from None


def to_record(entity: str, elem: Element) -> Record:
    """The record of one record element of the `entity` dump, as a dict. Raises RecordError."""
    record: Record = orjson.loads(to_json(entity, elem)[1])
    return record


def iter_records(path: Path | str) -> Iterator[RecordItem]:
    """A RecordItem for each record element of the dump, in file order.

    A malformed record becomes an item with `error` and `excerpt` and the stream goes on; a damaged file raises
    DumpFileError.
    """
    for entity, elem in iter_elements(path):
        yield item_of(entity, elem)


def item_of(entity: str, elem: Element) -> RecordItem:
    """The record of one element, or its error with an excerpt (never raises RecordError)."""
    try:
        record_id, value = to_json(entity, elem)
    except RecordError as exc:
        return RecordItem(entity, exc.record_id, None, exc, excerpt(elem))
    return RecordItem(entity, record_id, value)
