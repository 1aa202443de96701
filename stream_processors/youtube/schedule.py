"""Whose turn it is, and when each job will be done (pure).

Jobs take turns round-robin by user: each turn adds at most TURN_ITEMS videos, then the user served longest ago
goes next (a user's own jobs run one after the other, oldest first). So a small request finishes within minutes of
quota even behind a huge one. The same rotation, played forward over every active job, gives each job its place in
the queue and the units the site must spend until it is done; the daily budget turns those units into a date.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.playlist_jobs import ITEM_UNITS, PLAYLIST_UNITS, videos_per_day
from stream_processors.youtube import jobs as pj

# Videos a job adds per turn: "a few", so a turn takes seconds and others soon get theirs.
TURN_ITEMS = 5
# What one playlistItems.insert takes while quota lasts (an assumption: YouTube answers inserts in well under a
# second, and the worker makes one call at a time).
SECONDS_PER_ITEM = 1.0


def setup_units(job: pj.Job) -> int:
    """Units of the job's first turn besides its inserts: the pre-check and creating the playlist."""
    check = 0 if job.items is not None else math.ceil(len(set(job.video_ids)) / pj.VIDEOS_PER_LIST_CALL)
    return check + (PLAYLIST_UNITS if job.playlist_id is None else 0)


def _queue(job: pj.Job) -> tuple[str, str]:
    return job.requested_at or "", job.job_id


def rotation(jobs: Iterable[pj.Job], served: Mapping[str, int]) -> list[list[pj.Job]]:
    """Each user's jobs, oldest first, users in the order of their next turn: never served first (in request
    order), then the one served longest ago. `served` maps a user to the number of their last turn."""
    by_user: dict[str, list[pj.Job]] = {}
    for job in sorted(jobs, key=_queue):
        by_user.setdefault(job.user_id, []).append(job)
    return sorted(by_user.values(), key=lambda own: (served.get(own[0].user_id, -1), _queue(own[0])))


def next_job(due: Iterable[pj.Job], served: Mapping[str, int]) -> pj.Job | None:
    """The job whose turn it is among those that may run now."""
    order = rotation(due, served)
    return order[0][0] if order else None


@dataclass(frozen=True)
class Place:
    position: int  # 1: its turn is now or next; n: n - 1 other jobs get a turn before its first one
    units: int  # units every job spends, this one included, until it is done


def plan(active: Iterable[pj.Job], served: Mapping[str, int], turn_items: int = TURN_ITEMS) -> dict[str, Place]:
    """Each active job's place, playing the rotation forward until every job is done."""
    order = rotation(active, served)
    left = {job.job_id: job.left for own in order for job in own}
    setup = {job.job_id: setup_units(job) for own in order for job in own}
    queues = [list(own) for own in order]
    spent, turned, places = 0, 0, {}
    position: dict[str, int] = {}
    while queues:
        for queue in queues:
            job = queue[0]
            if job.job_id not in position:
                turned += 1
                position[job.job_id] = turned
            step = min(turn_items, left[job.job_id])
            spent += step * ITEM_UNITS + setup[job.job_id]
            setup[job.job_id] = 0
            left[job.job_id] -= step
            if left[job.job_id] == 0:
                places[job.job_id] = Place(position[job.job_id], spent)
                queue.pop(0)
        queues = [queue for queue in queues if queue]
    return places


def finish_at(units: int, now: datetime, spent_today: int, daily_units: int) -> datetime:
    """When `units` are spent: today's rest of the budget first, then a whole budget each Pacific day."""
    available = max(0, daily_units - spent_today)
    if units <= available or daily_units <= 0:
        return now + timedelta(seconds=units / ITEM_UNITS * SECONDS_PER_ITEM)
    days, last = divmod(units - available, daily_units)
    if last == 0:
        days, last = days - 1, daily_units
    return pj.next_reset(now) + timedelta(days=days, seconds=last / ITEM_UNITS * SECONDS_PER_ITEM)


def eta_text(eta: datetime, now: datetime, daily_units: int) -> str:
    """How long until `eta`, in words a visitor can act on."""
    seconds = max(0.0, (eta - now).total_seconds())
    if eta <= pj.next_reset(now):
        minutes = max(1, round(seconds / 60))
        return f"about {minutes} minute{'s' if minutes > 1 else ''}"
    hours = seconds / 3600
    amount = f"about {round(hours)} hours" if hours < 36 else f"about {round(hours / 24)} days"
    return f"{amount}: YouTube allows this site ~{videos_per_day(daily_units)} videos a day"


@dataclass(frozen=True)
class Progress:
    """What a job's status says about its future (the optional fields of a `playlist.status` value)."""

    queue_position: int
    remaining: int
    eta: datetime
    eta_text: str


def progress(
    active: Sequence[pj.Job], served: Mapping[str, int], now: datetime, spent_today: int, daily_units: int
) -> dict[str, Progress]:
    """Place, videos left and estimate of every active job."""
    out = {}
    jobs = {job.job_id: job for job in active}
    for job_id, place in plan(active, served).items():
        eta = finish_at(place.units, now, spent_today, daily_units)
        out[job_id] = Progress(place.position, jobs[job_id].left, eta, eta_text(eta, now, daily_units))
    return out
