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
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from producers.dumpfile import iter_elements

# XML white space only: a name made of a single NBSP is a real (if odd) value, not a missing one.
WS = " \t\r\n"
EXCERPT_LIMIT = 2000

Record = dict[str, Any]
Element = etree._Element


class RecordError(Exception):
    """A record that cannot be turned into a valid record (missing or non-integer id, broken structure)."""

    def __init__(self, entity: str, record_id: int | None, reason: str) -> None:
        super().__init__(f"{entity} {record_id if record_id is not None else '?'}: {reason}")
        self.entity = entity
        self.record_id = record_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RecordItem:
    """One depth-1 element of a dump: either a record or the error that kept it from being one."""

    entity: str
    record_id: int | None
    record: Record | None
    error: RecordError | None = None
    excerpt: str | None = None


def excerpt(elem: Element, limit: int = EXCERPT_LIMIT) -> str:
    """The element serialised as XML, cut to `limit` characters (for dead letters)."""
    text = etree.tostring(elem, encoding="unicode", with_tail=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------- scalars


def _text(elem: Element) -> str | None:
    text = elem.text
    if text is None:
        return None
    return text.strip(WS) or None


def _attr(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip(WS) or None


def _int(value: str | None, what: str) -> int | None:
    """Integer of a stripped value (None stays None); anything else is a malformed record."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} is not an integer: {value[:50]!r}") from None


def _ref_id(value: str | None, what: str) -> int | None:
    """A foreign id: 0 means 'not linked'."""
    return _int(value, what) or None


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(f"not a boolean: {value[:50]!r}")


def _date_part(part: str, high: int) -> int | None:
    if not part.isdigit():
        return None
    number = int(part)
    return number if 1 <= number <= high else None


def split_released(released: str | None) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) of a free-form partial date (`YYYY`, `YYYY-MM-DD`, `YYYY-00-00` ...); 0/00 = None.

    The year is the first four characters when they are digits other than `0000` (the facet index relies on it).
    """
    if not released:
        return None, None, None
    head = released[:4]
    year = int(head) if len(head) == 4 and head.isdigit() and head != "0000" else None
    parts = released.split("-")
    month = _date_part(parts[1], 12) if len(parts) > 1 else None
    day = _date_part(parts[2], 31) if len(parts) > 2 else None
    return year, month, day


def youtube_id(src: str | None) -> str | None:
    """The video id of a YouTube URL (`watch?v=ID`, `youtu.be/ID`, `/embed/ID`); None for anything else."""
    if not src:
        return None
    try:
        parts = urlsplit(src)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = parts.path
    if host == "youtu.be":
        candidate = path.strip("/").split("/", 1)[0]
    elif host == "youtube.com" or host.endswith(".youtube.com") or host == "youtube-nocookie.com" \
            or host.endswith(".youtube-nocookie.com"):
        if path.startswith(("/embed/", "/v/", "/shorts/", "/live/")):
            candidate = path.split("/")[2]
        else:
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
    else:
        return None
    candidate = candidate.strip()
    return candidate or None


# ---------------------------------------------------------------------------------------------- lists


def _texts(elem: Element) -> list[str]:
    """Non-empty texts of the children (genres, styles, urls, namevariations, descriptions)."""
    out = []
    for child in elem:
        text = child.text
        if text is not None and (text := text.strip(WS)):
            out.append(text)
    return out


def _credit(elem: Element) -> Record:
    credit: Record = {"id": None, "name": None, "anv": None, "join": None, "role": None, "tracks": None}
    for child in elem:
        tag = child.tag
        if tag == "id":
            credit["id"] = _ref_id(_text(child), "artist id")
        elif tag in credit:
            credit[tag] = _text(child)
    return credit


def _credits(elem: Element) -> list[Record]:
    return [_credit(child) for child in elem if child.tag == "artist"]


def _name_ref(elem: Element, fallback_id: int | None = None) -> Record | None:
    """`<name id="N">Name</name>` (aliases, groups, members, sublabels, parentLabel); None if it carries nothing."""
    ref_id = _ref_id(_attr(elem.get("id")), f"{elem.tag} id")
    if ref_id is None:
        ref_id = fallback_id
    name = _text(elem)
    if ref_id is None and name is None:
        return None
    return {"id": ref_id, "name": name}


def _name_refs(elem: Element) -> list[Record]:
    return [ref for child in elem if (ref := _name_ref(child)) is not None]


def _members(elem: Element) -> list[Record]:
    """All three shapes: `<name id>` (2025+), `<id>`+`<name id>` (2020), alternating `<id>`/`<name>` (2017)."""
    ids = [_ref_id(_text(child), "member id") for child in elem if child.tag == "id"]
    out = []
    position = 0
    for child in elem:
        if child.tag != "name":
            continue
        fallback = ids[position] if position < len(ids) else None
        position += 1
        if (ref := _name_ref(child, fallback)) is not None:
            out.append(ref)
    return out


def _label_refs(elem: Element) -> list[Record]:
    """`<label name catno id/>` in labels and `<series .../>` in series."""
    return [
        {"id": _ref_id(_attr(child.get("id")), "label id"), "name": _attr(child.get("name")),
         "catno": _attr(child.get("catno"))}
        for child in elem
        if isinstance(child.tag, str)
    ]


def _formats(elem: Element) -> list[Record]:
    out = []
    for child in elem:
        if child.tag != "format":
            continue
        get = child.get
        descriptions: list[str] = []
        for sub in child:
            if sub.tag == "descriptions":
                descriptions.extend(_texts(sub))
        out.append({"name": _attr(get("name")), "qty": _attr(get("qty")), "text": _attr(get("text")),
                    "descriptions": descriptions})
    return out


def _track(elem: Element) -> Record:
    track: Record = {"position": None, "title": None, "duration": None, "artists": [], "extraartists": [],
                     "sub_tracks": []}
    for child in elem:
        tag = child.tag
        if tag == "artists" or tag == "extraartists":
            track[tag] = _credits(child)
        elif tag == "sub_tracks":
            track["sub_tracks"] = _tracks(child)
        elif tag in track:
            track[tag] = _text(child)
    return track


def _tracks(elem: Element) -> list[Record]:
    return [_track(child) for child in elem if child.tag == "track"]


def _identifiers(elem: Element) -> list[Record]:
    return [
        {"type": _attr(child.get("type")), "description": _attr(child.get("description")),
         "value": _attr(child.get("value"))}
        for child in elem
        if child.tag == "identifier"
    ]


def _company(elem: Element) -> Record:
    company: Record = {"id": None, "name": None, "catno": None, "entity_type": None, "entity_type_name": None,
                       "resource_url": None}
    for child in elem:
        tag = child.tag
        if tag == "id":
            company["id"] = _ref_id(_text(child), "company id")
        elif tag == "entity_type":
            company["entity_type"] = _int(_text(child), "entity_type")
        elif tag in company:
            company[tag] = _text(child)
    return company


def _companies(elem: Element) -> list[Record]:
    return [_company(child) for child in elem if child.tag == "company"]


def _videos(elem: Element) -> list[Record]:
    out = []
    for child in elem:
        if child.tag != "video":
            continue
        src = _attr(child.get("src"))
        video: Record = {"src": src, "youtube_id": youtube_id(src),
                         "duration": _int(_attr(child.get("duration")), "video duration"),
                         "embed": _bool(_attr(child.get("embed"))), "title": None, "description": None}
        for sub in child:
            tag = sub.tag
            if tag == "title" or tag == "description":
                video[tag] = _text(sub)
        out.append(video)
    return out


def _images(elem: Element) -> list[Record]:
    return [
        {"type": _attr(child.get("type")), "uri": _attr(child.get("uri")), "uri150": _attr(child.get("uri150")),
         "width": _int(_attr(child.get("width")), "image width"),
         "height": _int(_attr(child.get("height")), "image height")}
        for child in elem
        if child.tag == "image"
    ]
