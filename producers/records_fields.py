"""Builders of the nested parts of records (credits, tracks, videos ...) and of derived scalar values.

Helpers raise ValueError for a value the format defines as an integer that is not one; records.py turns it into
a RecordError of the whole record.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lxml import etree

# The shape of (nearly) every dump video: matched without the cost of a full URL parse.
PLAIN_WATCH_URL = re.compile(r"https?://(?:www\.)?youtube\.com/watch\?v=([A-Za-z0-9_-]+)")
TRACK_TEXTS = frozenset(("position", "title", "duration"))
# XML white space only: a name made of a single NBSP is a real (if odd) value, not a missing one.
WS = " \t\r\n"

Record = dict[str, Any]
Element = etree._Element


# ---------------------------------------------------------------------------------------------- scalars


def text_of(elem: Element) -> str | None:
    text = elem.text
    if text is None:
        return None
    return text.strip(WS) or None


def attr(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip(WS) or None


def to_int(value: str | None, what: str) -> int | None:
    """Integer of a stripped value (None stays None); anything else is a malformed record."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{what} is not an integer: {value[:50]!r}") from None


def ref_id(value: str | None, what: str) -> int | None:
    """A foreign id: 0 means 'not linked'."""
    return to_int(value, what) or None


def to_bool(value: str | None, what: str) -> bool | None:
    if value is None:
        return None
    lowered = value.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(f"{what} is not a boolean: {value[:50]!r}")


def _is_number(text: str) -> bool:
    # str.isdigit alone accepts characters such as "²" that int() rejects.
    return text.isascii() and text.isdigit()


def _date_part(part: str, high: int) -> int | None:
    if not _is_number(part):
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
    year = int(head) if len(head) == 4 and _is_number(head) and head != "0000" else None
    parts = released.split("-")
    month = _date_part(parts[1], 12) if len(parts) > 1 else None
    day = _date_part(parts[2], 31) if len(parts) > 2 else None
    return year, month, day


def youtube_id(src: str | None) -> str | None:
    """The video id of a YouTube URL (`watch?v=ID`, `youtu.be/ID`, `/embed/ID`); None for anything else."""
    if not src:
        return None
    plain = PLAIN_WATCH_URL.fullmatch(src)
    if plain is not None:
        return plain.group(1)
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


def texts(elem: Element) -> list[str]:
    """Non-empty texts of the children (genres, styles, urls, namevariations, descriptions)."""
    out = []
    for child in elem:
        text = child.text
        if text is not None and (text := text.strip(WS)):
            out.append(text)
    return out


def _fill_texts(record: Record, elem: Element) -> Record:
    """Sets each key of `record` that names a child with non-empty text to that text (the hot loop: inlined)."""
    for child in elem:
        text = child.text
        if text is not None and (text := text.strip(WS)):
            tag = child.tag
            if tag in record:
                record[tag] = text
    return record


def artist_credits(elem: Element) -> list[Record]:
    out = []
    for child in elem:
        if child.tag != "artist":
            continue
        credit = _fill_texts(
            {"id": None, "name": None, "anv": None, "join": None, "role": None, "tracks": None}, child)
        if credit["id"] is not None:
            credit["id"] = ref_id(credit["id"], "artist id")
        out.append(credit)
    return out


def name_ref(elem: Element, fallback_id: int | None = None) -> Record | None:
    """`<name id="N">Name</name>` (aliases, groups, members, sublabels, parentLabel); None if it carries nothing."""
    linked = ref_id(attr(elem.get("id")), f"{elem.tag} id")
    if linked is None:
        linked = fallback_id
    name = text_of(elem)
    if linked is None and name is None:
        return None
    return {"id": linked, "name": name}


def name_refs(elem: Element) -> list[Record]:
    return [ref for child in elem if (ref := name_ref(child)) is not None]


def members(elem: Element) -> list[Record]:
    """All three shapes: `<name id>` (2025+), `<id>`+`<name id>` (2020), alternating `<id>`/`<name>` (2017)."""
    ids = [ref_id(text_of(child), "member id") for child in elem if child.tag == "id"]
    out = []
    position = 0
    for child in elem:
        if child.tag != "name":
            continue
        fallback = ids[position] if position < len(ids) else None
        position += 1
        if (ref := name_ref(child, fallback)) is not None:
            out.append(ref)
    return out


def label_refs(elem: Element) -> list[Record]:
    """`<label name catno id/>` in labels and `<series .../>` in series."""
    return [
        {"id": ref_id(attr(child.get("id")), "label id"), "name": attr(child.get("name")),
         "catno": attr(child.get("catno"))}
        for child in elem
        if isinstance(child.tag, str)
    ]


def formats(elem: Element) -> list[Record]:
    out = []
    for child in elem:
        if child.tag != "format":
            continue
        get = child.get
        descriptions: list[str] = []
        for sub in child:
            if sub.tag == "descriptions":
                descriptions.extend(texts(sub))
        out.append({"name": attr(get("name")), "qty": attr(get("qty")), "text": attr(get("text")),
                    "descriptions": descriptions})
    return out


def _track(elem: Element) -> Record:
    track: Record = {"position": None, "title": None, "duration": None, "artists": [], "extraartists": [],
                     "sub_tracks": []}
    for child in elem:
        tag = child.tag
        if tag in TRACK_TEXTS:
            text = child.text
            if text is not None and (text := text.strip(WS)):
                track[tag] = text
        elif tag == "artists" or tag == "extraartists":
            track[tag] = artist_credits(child)
        elif tag == "sub_tracks":
            track["sub_tracks"] = tracks(child)
    return track


def tracks(elem: Element) -> list[Record]:
    return [_track(child) for child in elem if child.tag == "track"]


def identifiers(elem: Element) -> list[Record]:
    return [
        {"type": attr(child.get("type")), "description": attr(child.get("description")),
         "value": attr(child.get("value"))}
        for child in elem
        if child.tag == "identifier"
    ]


def _company(elem: Element) -> Record:
    company = _fill_texts({"id": None, "name": None, "catno": None, "entity_type": None,
                           "entity_type_name": None, "resource_url": None}, elem)
    company["id"] = ref_id(company["id"], "company id")
    company["entity_type"] = to_int(company["entity_type"], "entity_type")
    return company


def companies(elem: Element) -> list[Record]:
    return [_company(child) for child in elem if child.tag == "company"]


def videos(elem: Element) -> list[Record]:
    out = []
    for child in elem:
        if child.tag != "video":
            continue
        src = attr(child.get("src"))
        video: Record = {"src": src, "youtube_id": youtube_id(src),
                         "duration": to_int(attr(child.get("duration")), "video duration"),
                         "embed": to_bool(attr(child.get("embed")), "video embed"), "title": None, "description": None}
        out.append(_fill_texts(video, child))
    return out


def images(elem: Element) -> list[Record]:
    return [
        {"type": attr(child.get("type")), "uri": attr(child.get("uri")), "uri150": attr(child.get("uri150")),
         "width": to_int(attr(child.get("width")), "image width"),
         "height": to_int(attr(child.get("height")), "image height")}
        for child in elem
        if child.tag == "image"
    ]
