"""The YouTube video-id rule: which links are YouTube videos, and what a video id looks like.

One parser for every package: the producer publishes a record's `youtube_id` with it, the index reads it with it.
A link it does not take stays in the record's `src` and gives no video id.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

# The common form, matched without parsing the URL (most Discogs video links look like this).
PLAIN_WATCH_URL = re.compile(r"https?://(?:www\.)?youtube\.com/watch\?v=([A-Za-z0-9_-]{11})")
VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")


def is_video_id(value: str) -> bool:
    """A YouTube video id: 11 characters of A-Z, a-z, 0-9, _ and -."""
    return VIDEO_ID.fullmatch(value) is not None


def youtube_id(src: str | None) -> str | None:
    """The video id of a YouTube URL (`watch?v=ID`, `youtu.be/ID`, `/embed/ID`, `/v/`, `/shorts/`, `/live/`);
    None for anything else, a malformed id included. The path names the video where it has one (`/embed/X?v=Y`
    is X)."""
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
    return candidate if is_video_id(candidate) else None


def valid_youtube_id(src: object) -> str | None:
    """youtube_id() of whatever a record holds as a link (not a string: no id; surrounding blanks ignored)."""
    return youtube_id(src.strip()) if isinstance(src, str) else None
