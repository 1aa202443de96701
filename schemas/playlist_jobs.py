"""Playlist job rules and messages shared by the site (which accepts requests) and the YouTube worker (which runs
them)."""

# No `from __future__ import annotations`: TypedDict sees NotRequired only in evaluated annotations, and the
# message types' required keys are read at run time (tests/schemas/test_message_types.py).
from typing import Any, Literal, NotRequired, TypedDict, get_args

Privacy = Literal["private", "unlisted"]
PRIVACIES: tuple[Privacy, ...] = get_args(Privacy)
# YouTube refuses more items in one playlist, so no job may ask for more.
MAX_PLAYLIST_ITEMS = 5000
# The YouTube worker's record of each job (a collection of the `_app` database), saved before each snapshot of the
# job is published: `_id` = job_id, the snapshot's fields under their names, the requested `video_ids`, and the
# `updated_at` of the save. The site reads a finished job's status there once it no longer holds the snapshot.
JOB_RECORDS = "playlist_jobs"
# The site's record of each request it accepted (a collection of the `_app` database), written before the request is
# published: `_id` = job_id and the `playlist.requests` value. The YouTube worker runs only requests it finds there
# as published, so a message on the topic alone cannot make it act for a user.
REQUEST_RECORDS = "playlist_requests"
# The fields of a request that must match its record (the worker's own `job_id` is the record's `_id`).
REQUEST_FIELDS = ("user_id", "title", "privacy", "query", "video_ids", "requested_at")
JobState = Literal["queued", "running", "waiting_for_quota", "done", "failed"]
# States of a job that is not finished, and the final ones.
ACTIVE_STATES: tuple[JobState, ...] = ("queued", "running", "waiting_for_quota")
FINAL_STATES: tuple[JobState, ...] = ("done", "failed")
# YouTube Data API units (https://developers.google.com/youtube/v3/determine_quota_cost): the site's Google project
# gets DEFAULT_DAILY_UNITS a day, and creating a playlist or adding one video costs 50 each.
DEFAULT_DAILY_UNITS = 10_000
PLAYLIST_UNITS = 50
ITEM_UNITS = 50


def videos_per_day(daily_units: int) -> int:
    """Videos the whole site can add to playlists in one day, one playlist created (10,000 units: 199)."""
    return max(0, (daily_units - PLAYLIST_UNITS) // ITEM_UNITS)


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
    # While the job is active, once the worker has placed it in its queue:
    queue_position: NotRequired[int]  # 1: its turn is now or next
    remaining: NotRequired[int]  # videos still to add
    eta: NotRequired[str]  # estimated finish (ISO-8601 UTC)
    eta_text: NotRequired[str]  # the estimate in words, e.g. "about 2 days: YouTube allows this site ~199 videos a day"
