"""Playlist jobs as pure data: parsing requests, state transitions, status snapshots and quota-day arithmetic.

Every transition returns a new `Job` with `seq` bumped, so each persisted state has its own snapshot number and the
site can drop stale snapshots. No I/O here: the worker persists and publishes what these functions return.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from schemas.messages import format_time
from schemas.playlist_jobs import (
    ACTIVE_STATES,
    ITEM_UNITS,
    MAX_PLAYLIST_ITEMS,
    PLAYLIST_UNITS,
    PRIVACIES,
    JobState,
    Privacy,
    StatusSnapshot,
)

PACIFIC = ZoneInfo("America/Los_Angeles")
# Units per call (https://developers.google.com/youtube/v3/determine_quota_cost).
UNIT_COSTS: Mapping[str, int] = {
    "videos.list": 1,
    "playlists.insert": PLAYLIST_UNITS,
    "playlistItems.insert": ITEM_UNITS,
    "playlistItems.list": 1,
}
VIDEOS_PER_LIST_CALL = 50
RECONNECT_MESSAGE = "YouTube access has expired or was revoked: reconnect YouTube and submit the playlist again"
SIGN_IN_AGAIN_MESSAGE = "the site can no longer use your YouTube access: sign in again and submit the playlist again"


class InvalidJob(ValueError):
    """A request message that cannot become a job."""


@dataclass(frozen=True)
class Job:
    job_id: str
    user_id: str
    title: str
    privacy: Privacy
    video_ids: tuple[str, ...]
    state: JobState = "queued"
    seq: int = 1
    # Playable ids in insertion order, known once the videos.list pre-check ran.
    items: tuple[str, ...] | None = None
    next_index: int = 0
    done: int = 0
    skipped: int = 0
    playlist_id: str | None = None
    error: str | None = None
    resume_at: datetime | None = None
    query: dict[str, Any] = field(default_factory=dict)
    requested_at: str | None = None
    # Where the worker's last plan put the job (stream_processors/youtube/schedule.py); None until then.
    queue_position: int | None = None
    eta: datetime | None = None
    eta_text: str | None = None

    @property
    def total(self) -> int:
        return len(self.video_ids)

    @property
    def remaining(self) -> tuple[str, ...]:
        return () if self.items is None else self.items[self.next_index :]

    @property
    def left(self) -> int:
        """Videos the job may still add (before the pre-check: every distinct requested one)."""
        return len(self.remaining) if self.items is not None else len(set(self.video_ids))

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["_id"] = doc.pop("job_id")
        doc["video_ids"] = list(self.video_ids)
        doc["items"] = None if self.items is None else list(self.items)
        for name in ("resume_at", "eta"):
            moment = getattr(self, name)
            doc[name] = None if moment is None else moment.isoformat()
        return doc

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Job:
        names = {f for f in cls.__dataclass_fields__ if f != "job_id"}
        values = {k: v for k, v in doc.items() if k in names}
        values["video_ids"] = tuple(doc["video_ids"])
        values["items"] = None if doc.get("items") is None else tuple(doc["items"])
        for name in ("resume_at", "eta"):
            values[name] = None if doc.get(name) is None else datetime.fromisoformat(doc[name])
        return cls(job_id=doc["_id"], **values)


def parse_job(message: object) -> Job:
    """A job from a `playlist.requests` value; raises InvalidJob naming the first problem."""
    if not isinstance(message, dict):
        raise InvalidJob("job message is not an object")
    for name in ("job_id", "user_id", "title"):
        if not isinstance(message.get(name), str) or not message[name].strip():
            raise InvalidJob(f"{name} must be a non-empty string")
    if message.get("privacy") not in PRIVACIES:
        raise InvalidJob(f"privacy must be one of {', '.join(PRIVACIES)}")
    ids = message.get("video_ids")
    if not isinstance(ids, list) or not all(isinstance(v, str) and v for v in ids):
        raise InvalidJob("video_ids must be a list of non-empty strings")
    query = message.get("query")
    return Job(
        job_id=message["job_id"],
        user_id=message["user_id"],
        title=message["title"].strip(),
        privacy=message["privacy"],
        video_ids=tuple(ids),
        query=query if isinstance(query, dict) else {},
        requested_at=message.get("requested_at") if isinstance(message.get("requested_at"), str) else None,
    )


def _next(job: Job, **changes: Any) -> Job:
    return replace(job, seq=job.seq + 1, **changes)


def start(job: Job) -> Job:
    return _next(job, state="running", error=None, resume_at=None)


def too_long(job: Job) -> str | None:
    """Why the job can never fit one playlist, or None."""
    count = len(job.items) if job.items is not None else len(set(job.video_ids))
    if count > MAX_PLAYLIST_ITEMS:
        return f"a YouTube playlist holds at most {MAX_PLAYLIST_ITEMS} videos; this request has {count}"
    return None


def is_playable(video: Mapping[str, Any]) -> bool:
    """A `videos.list` resource that can be added to someone else's playlist and played there."""
    status = video.get("status") or {}
    return status.get("privacyStatus", "public") in ("public", "unlisted") and status.get("embeddable", True)


def checked(job: Job, playable: Collection[str]) -> Job:
    """After the pre-check: keep the playable ids in request order, once each; the rest counts as skipped."""
    items = tuple(dict.fromkeys(v for v in job.video_ids if v in playable))
    return _next(job, items=items, skipped=job.total - len(items))


def playlist_created(job: Job, playlist_id: str) -> Job:
    return _next(job, playlist_id=playlist_id)


def item_added(job: Job) -> Job:
    return _next(job, next_index=job.next_index + 1, done=job.done + 1)


def item_skipped(job: Job) -> Job:
    return _next(job, next_index=job.next_index + 1, skipped=job.skipped + 1)


def reconciled(job: Job, present: Collection[str]) -> Job:
    """After a crash: count the items already in the playlist (an insert may have landed unrecorded) as done."""
    step = 0
    for video_id in job.remaining:
        if video_id not in present:
            break
        step += 1
    return job if step == 0 else _next(job, next_index=job.next_index + step, done=job.done + step)


def parked(job: Job, reset_at: datetime) -> Job:
    local = reset_at.astimezone(PACIFIC)
    message = (
        f"YouTube daily quota used up; resuming after {local:%Y-%m-%d %H:%M} Pacific time "
        f"({reset_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    )
    return _next(job, state="waiting_for_quota", error=message, resume_at=reset_at)


def paused(job: Job) -> Job:
    """End of the job's turn: back in the queue until its next one."""
    return _next(job, state="queued")


def placed(job: Job, position: int, eta: datetime, eta_text: str) -> Job:
    return _next(job, queue_position=position, eta=eta, eta_text=eta_text)


def finished(job: Job) -> Job:
    return _next(job, state="done", error=None, resume_at=None)


def failed(job: Job, message: str) -> Job:
    return _next(job, state="failed", error=message, resume_at=None)


def snapshot(job: Job, now: datetime) -> StatusSnapshot:
    """The `playlist.status` value for the job's current state."""
    snap = StatusSnapshot(job_id=job.job_id, user_id=job.user_id, seq=job.seq, state=job.state, done=job.done,
                          total=job.total, skipped=job.skipped, playlist_id=job.playlist_id, error=job.error,
                          updated_at=format_time(now))
    if job.state in ACTIVE_STATES and job.queue_position is not None and job.eta is not None and job.eta_text:
        snap["queue_position"] = job.queue_position
        snap["remaining"] = job.left
        snap["eta"] = format_time(job.eta)
        snap["eta_text"] = job.eta_text
    return snap


def chunks(ids: Sequence[str], size: int = VIDEOS_PER_LIST_CALL) -> Iterator[Sequence[str]]:
    for start_at in range(0, len(ids), size):
        yield ids[start_at : start_at + size]


# Quota days run from midnight to midnight Pacific time, whatever the server's zone or DST.
def quota_day(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


def next_reset(now: datetime) -> datetime:
    """The next Pacific midnight after `now`, in UTC."""
    tomorrow = quota_day(now) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=PACIFIC).astimezone(UTC)


def due(jobs: Iterable[Job], now: datetime) -> list[Job]:
    """Active jobs that may run now: parked ones only once their quota day is over."""
    return [j for j in jobs if j.state in ACTIVE_STATES and (j.resume_at is None or j.resume_at <= now)]
