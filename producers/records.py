"""XML record element -> JSON-serialisable record (shapes in schemas/records.py and schemas/README.md).

One pass over each element's children, dispatching on the tag. Every child is optional; absent, empty and
whitespace-only values are all None (scalars) or [] (lists). Foreign ids of 0 mean "no link" and become None.
Values the format defines as integers (ids, counts, sizes, durations) must be integers: otherwise the record is
malformed and the caller dead-letters it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from producers import records_fields as f
from producers.dumpfile import iter_elements
from producers.records_fields import Element, Record

EXCERPT_LIMIT = 2000


class RecordError(Exception):
    """An element that cannot become a valid record (missing or non-integer id, broken structure)."""

    def __init__(self, entity: str, record_id: int | None, reason: str) -> None:
        super().__init__(f"{entity} {record_id if record_id is not None else '?'}: {reason}")
        self.entity = entity
        self.record_id = record_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordItem:
    """One depth-1 element of a dump: a record, or the error (with an XML excerpt) that kept it from being one."""

    entity: str
    record_id: int | None
    record: Record | None
    error: RecordError | None = None
    excerpt: str | None = None


def excerpt(elem: Element, limit: int = EXCERPT_LIMIT) -> str:
    """The element serialised as XML, cut to at most `limit` characters (for dead letters)."""
    text = etree.tostring(elem, encoding="unicode", with_tail=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Child tag -> builder of the field of the same name. Tags missing here (and `id`) are handled by the entity
# functions or ignored.
Builders = dict[str, Callable[[Element], Any]]

COMMON: Builders = {
    "title": f.text_of, "notes": f.text_of, "data_quality": f.text_of, "genres": f.texts, "styles": f.texts,
    "artists": f.artist_credits, "videos": f.videos, "images": f.images,
}
RELEASE: Builders = {
    **COMMON, "extraartists": f.artist_credits, "labels": f.label_refs, "series": f.label_refs,
    "formats": f.formats, "country": f.text_of, "tracklist": f.tracks, "identifiers": f.identifiers,
    "companies": f.companies,
}
MASTER: Builders = {**COMMON, "main_release": lambda e: f.ref_id(f.text_of(e), "main_release")}
ARTIST: Builders = {
    "name": f.text_of, "realname": f.text_of, "profile": f.text_of, "data_quality": f.text_of, "urls": f.texts,
    "namevariations": f.texts, "aliases": f.name_refs, "members": f.members, "groups": f.name_refs,
    "images": f.images,
}
LABEL: Builders = {
    "name": f.text_of, "contactinfo": f.text_of, "profile": f.text_of, "data_quality": f.text_of,
    "urls": f.texts, "sublabels": f.name_refs, "images": f.images,
}


def _fill(record: Record, elem: Element, builders: Builders) -> Record:
    get = builders.get
    for child in elem:
        build = get(child.tag)
        if build is not None:
            record[child.tag] = build(child)
    return record


def _release(elem: Element, record_id: int) -> Record:
    record: Record = {
        "id": record_id, "status": f.attr(elem.get("status")), "title": None, "artists": [], "extraartists": [],
        "labels": [], "series": [], "formats": [], "genres": [], "styles": [], "country": None,
        "released": None, "year": None, "month": None, "day": None, "notes": None, "data_quality": None,
        "master_id": None, "is_main_release": None, "tracklist": [], "identifiers": [], "videos": [],
        "companies": [], "images": [],
    }
    _fill(record, elem, RELEASE)
    # The two children that fill several fields.
    released = elem.find("released")
    if released is not None:
        raw = record["released"] = f.text_of(released)
        record["year"], record["month"], record["day"] = f.split_released(raw)
    master = elem.find("master_id")
    if master is not None:
        record["master_id"] = f.ref_id(f.text_of(master), "master_id")
        record["is_main_release"] = f.to_bool(f.attr(master.get("is_main_release")), "is_main_release")
    return record


def _master(elem: Element, record_id: int) -> Record:
    record: Record = {
        "id": record_id, "main_release": None, "artists": [], "genres": [], "styles": [], "notes": None,
        "year": None, "title": None, "data_quality": None, "videos": [], "images": [],
    }
    _fill(record, elem, MASTER)
    year = elem.find("year")
    if year is not None:
        record["year"] = f.to_int(f.text_of(year), "year") or None
    return record


def _artist(elem: Element, record_id: int) -> Record:
    record: Record = {
        "id": record_id, "name": None, "realname": None, "profile": None, "data_quality": None, "urls": [],
        "namevariations": [], "aliases": [], "members": [], "groups": [], "images": [],
    }
    return _fill(record, elem, ARTIST)


def _label(elem: Element, record_id: int) -> Record:
    record: Record = {
        "id": record_id, "name": None, "contactinfo": None, "profile": None, "data_quality": None,
        "parent_label": None, "urls": [], "sublabels": [], "images": [],
    }
    _fill(record, elem, LABEL)
    parent = elem.find("parentLabel")
    if parent is not None:
        record["parent_label"] = f.name_ref(parent)
    return record


# entity -> (builder, id is an attribute of the record element rather than an `<id>` child)
ENTITY_BUILDERS: dict[str, tuple[Callable[[Element, int], Record], bool]] = {
    "releases": (_release, True),
    "masters": (_master, True),
    "artists": (_artist, False),
    "labels": (_label, False),
}


def record_id_of(entity: str, elem: Element) -> int:
    """The record's own id (`@id` of releases and masters, `<id>` of artists and labels); RecordError if bad."""
    raw = elem.get("id") if ENTITY_BUILDERS[entity][1] else elem.findtext("id")
    value = f.attr(raw)
    if value is None:
        raise RecordError(entity, None, "missing id")
    try:
        record_id = int(value)
    except ValueError:
        raise RecordError(entity, None, f"id is not an integer: {value[:50]!r}") from None
    if record_id <= 0:
        raise RecordError(entity, None, f"id is not positive: {record_id}")
    return record_id


def to_record(entity: str, elem: Element) -> Record:
    """The JSON-serialisable record of one record element of the `entity` dump. Raises RecordError."""
    if entity not in ENTITY_BUILDERS:
        raise ValueError(f"unknown entity {entity!r}")
    record_id = record_id_of(entity, elem)
    try:
        return ENTITY_BUILDERS[entity][0](elem, record_id)
    except ValueError as exc:
        raise RecordError(entity, record_id, str(exc)) from None


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
        record = to_record(entity, elem)
    except RecordError as exc:
        return RecordItem(entity, exc.record_id, None, exc, excerpt(elem))
    return RecordItem(entity, record["id"], record)
