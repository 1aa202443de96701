"""What a release contributes to the facet index: facet values, YouTube videos and folded search keys."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from unidecode import unidecode

_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")
_YOUTUBE_HOSTS = ("youtube.com", "youtube-nocookie.com", "youtu.be")


def fold(value: str) -> str:
    """Case- and accent-insensitive key for prefix search ("Björk" -> "bjork")."""
    return unidecode(value).casefold().strip()


def _texts(values: Iterable[Any]) -> set[str]:
    return {text for value in values if isinstance(value, str) and (text := value.strip())}


def _names(items: Any) -> set[str]:
    return _texts(item.get("name") for item in items or () if isinstance(item, dict))


def release_year(released: Any) -> str | None:
    """The year of the raw `released` string: its first four characters when they are digits other than 0000."""
    if not isinstance(released, str):
        return None
    head = released.strip()[:4]
    return head if len(head) == 4 and head.isdigit() and head != "0000" else None


def release_facets(release: dict[str, Any]) -> dict[str, set[str]]:
    """Facet name -> the release's values (stripped, empty ones dropped); every facet of query.FACETS is a key."""
    year = release_year(release.get("released"))
    country = release.get("country")
    facets = {
        "genre": _texts(release.get("genres") or ()),
        "style": _texts(release.get("styles") or ()),
        "year": {year} if year else set(),
        "decade": {str(int(year) // 10 * 10)} if year else set(),
        "country": _texts([country]),
        "label": _names(release.get("labels")),
        # `artists` holds the main credits only; extra and track artists live elsewhere in the record.
        "artist": _names(release.get("artists")),
        "format": _names(release.get("formats")),
    }
    return facets


def youtube_id(src: Any) -> str | None:
    """The video id of a YouTube URL (watch?v=ID, youtu.be/ID, /embed/ID, /v/ID, /shorts/ID), else None."""
    if not isinstance(src, str) or not src.strip():
        return None
    parts = urlsplit(src.strip())
    host = (parts.hostname or "").lower()
    if not any(host == h or host.endswith("." + h) for h in _YOUTUBE_HOSTS):
        return None
    candidate: str | None
    if host.endswith("youtu.be"):
        candidate = parts.path.strip("/").split("/")[0]
    else:
        candidate = (parse_qs(parts.query).get("v") or [None])[0]
        segments = [s for s in parts.path.split("/") if s]
        if candidate is None and len(segments) >= 2 and segments[0] in ("embed", "v", "shorts", "live"):
            candidate = segments[1]
    return candidate if candidate and _YOUTUBE_ID.match(candidate) else None


def release_videos(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(YouTube id, title) of a release's or master's videos, first occurrence of each id, in order."""
    seen: dict[str, str] = {}
    for video in record.get("videos") or ():
        if not isinstance(video, dict):
            continue
        given = video.get("youtube_id")
        vid = given.strip() if isinstance(given, str) and _YOUTUBE_ID.match(given.strip()) else None
        vid = vid or youtube_id(video.get("src"))
        if vid and vid not in seen:
            title = video.get("title")
            seen[vid] = title.strip() if isinstance(title, str) else ""
    return list(seen.items())

