"""Playlist job rules and messages shared by the site (which accepts requests) and the YouTube worker (which runs
them)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict, get_args

Privacy = Literal["private", "unlisted"]
PRIVACIES: tuple[Privacy, ...] = get_args(Privacy)
# YouTube refuses more items in one playlist, so no job may ask for more.
MAX_PLAYLIST_ITEMS = 5000
JobState = Literal["queued", "running", "waiting_for_quota", "done", "failed"]
# States of a job that is not finished; `done` and `failed` are final.
ACTIVE_STATES: tuple[JobState, ...] = ("queued", "running", "waiting_for_quota")


class PlaylistJob(TypedDict):
    """A `playlist.requests` value (schemas/playlist.requests.schema.json)."""

    job_id: str
    user_id: str
    title: str
    privacy: Privacy
    # The facet query the videos were drawn from, in its JSON form (facet -> values, unique, seed).
    query: dict[str, Any]
    video_ids: list[str]
    requested_at: str


class StatusSnapshot(TypedDict):
    """A `playlist.status` value (schemas/playlist.status.schema.json): the whole state of a job at `seq`."""

    job_id: str
    user_id: str
    seq: int
    state: JobState
    done: int
    total: int
    skipped: int
    playlist_id: str | None
    error: str | None
    updated_at: str
