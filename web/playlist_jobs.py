"""Playlist requests: validating the body, building the job message and its first snapshot (pure)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace

from runtime.settings import Settings
from schemas.messages import now_iso
from schemas.playlist_jobs import (
    MAX_PLAYLIST_ITEMS,
    PRIVACIES,
    PlaylistJob,
    Privacy,
    StatusSnapshot,
    videos_per_day,
)
from schemas.query import FacetQuery
from web.query_params import QueryError, query_from_json, query_to_json

DEFAULT_PLAYLIST_VIDEOS = 50
MAX_TITLE = 150  # YouTube rejects longer playlist titles
_BODY_KEYS = {"title", "privacy", "query", "max_videos"}


@dataclass(frozen=True)
class PlaylistRequest:
    title: str
    privacy: Privacy
    query: FacetQuery  # limit = max_videos; seed always set so the job is reproducible


def parse_playlist_request(body: object) -> PlaylistRequest:
    if not isinstance(body, dict):
        raise QueryError("body: must be a JSON object")
    unknown = sorted(set(body) - _BODY_KEYS)
    if unknown:
        raise QueryError(f"unknown field(s): {', '.join(unknown)}")
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise QueryError("title: required")
    if len(title.strip()) > MAX_TITLE:
        raise QueryError(f"title: at most {MAX_TITLE} characters")
    privacy = body.get("privacy", "private")
    if privacy not in PRIVACIES:
        raise QueryError(f"privacy: must be one of {', '.join(PRIVACIES)}")
    max_videos = body.get("max_videos", DEFAULT_PLAYLIST_VIDEOS)
    if not isinstance(max_videos, int) or isinstance(max_videos, bool) or not 1 <= max_videos <= MAX_PLAYLIST_ITEMS:
        raise QueryError(f"max_videos: must be an integer between 1 and {MAX_PLAYLIST_ITEMS}")
    query = query_from_json(body.get("query", {}), limit=max_videos, max_limit=MAX_PLAYLIST_ITEMS)
    if query.seed is None:
        query = replace(query, seed=secrets.randbelow(2**31))
    return PlaylistRequest(title=title.strip(), privacy=privacy, query=query)


def refusal(request: PlaylistRequest, active_jobs: int, settings: Settings) -> str | None:
    """Why a user may not have this playlist now (the site answers 429), or None: the site's quota is shared."""
    per_day = videos_per_day(settings.youtube_daily_units)
    meanwhile = "play, open or download the whole selection with the buttons above, which needs no quota"
    if request.query.limit > settings.playlist_max_videos:
        return (f"a playlist here holds at most {settings.playlist_max_videos} videos: YouTube lets this site add "
                f"about {per_day} videos a day for everybody. Ask for {settings.playlist_max_videos} or fewer, "
                f"or {meanwhile}")
    if active_jobs >= settings.playlist_max_active_jobs:
        return (f"you have {active_jobs} playlists still being built, and {settings.playlist_max_active_jobs} at a "
                f"time is the limit while YouTube lets this site add about {per_day} videos a day for everybody. "
                f"Wait until one is done, or {meanwhile}")
    return None


def build_job(user_id: str, request: PlaylistRequest, videos: list[str]) -> PlaylistJob:
    """The `playlist.requests` message (schemas/playlist.requests.schema.json)."""
    return {
        "job_id": str(uuid.uuid4()),
        "user_id": user_id,
        "title": request.title,
        "privacy": request.privacy,
        "query": query_to_json(request.query),
        "video_ids": videos,
        "requested_at": now_iso(),
    }


def initial_snapshot(job: PlaylistJob) -> StatusSnapshot:
    """What a job looks like before the worker reports (not published; the worker owns the status topic)."""
    return StatusSnapshot(job_id=job["job_id"], user_id=job["user_id"], seq=0, state="queued", done=0,
                          total=len(job["video_ids"]), skipped=0, playlist_id=None, error=None,
                          updated_at=job["requested_at"])
