"""What a release contributes to the facet index: facet values, YouTube videos and folded search keys."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from unidecode import unidecode

from schemas.records import Master, Release
from schemas.youtube import is_video_id, valid_youtube_id


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


def release_facets(release: Release) -> dict[str, set[str]]:
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


def release_videos(record: Release | Master) -> list[tuple[str, str]]:
    """(YouTube id, title) of a release's or master's videos, first occurrence of each id, in order."""
    seen: dict[str, str] = {}
    for video in record.get("videos") or ():
        if not isinstance(video, dict):
            continue
        given = video.get("youtube_id")
        vid = given.strip() if isinstance(given, str) and is_video_id(given.strip()) else None
        vid = vid or valid_youtube_id(video.get("src"))
        if vid and vid not in seen:
            title = video.get("title")
            seen[vid] = title.strip() if isinstance(title, str) else ""
    return list(seen.items())

