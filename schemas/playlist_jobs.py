"""Playlist job rules shared by the site (which accepts requests) and the YouTube worker (which runs them)."""

from __future__ import annotations

from typing import Any

PRIVACIES = ("private", "unlisted")
# YouTube refuses more items in one playlist, so no job may ask for more.
MAX_PLAYLIST_ITEMS = 5000
# States of a job that is not finished; `done` and `failed` are final.
ACTIVE_STATES = ("queued", "running", "waiting_for_quota")


def status_snapshot(
    *,
    job_id: str,
    user_id: str,
    seq: int,
    state: str,
    done: int,
    total: int,
    skipped: int,
    playlist_id: str | None,
    error: str | None,
    updated_at: str,
) -> dict[str, Any]:
    """A `playlist.status` value (schemas/playlist.status.schema.json)."""
    return {
        "job_id": job_id,
        "user_id": user_id,
        "seq": seq,
        "state": state,
        "done": done,
        "total": total,
        "skipped": skipped,
        "playlist_id": playlist_id,
        "error": error,
        "updated_at": updated_at,
    }
