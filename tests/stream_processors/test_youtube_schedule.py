"""Round-robin turns, places in the queue and finish estimates (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from schemas.playlist_jobs import videos_per_day
from stream_processors.youtube import jobs as pj
from stream_processors.youtube import schedule as sc

# Winter: the quota day ends at 08:00 UTC.
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
RESET = datetime(2026, 1, 16, 8, 0, tzinfo=UTC)


def job(job_id: str, user: str, videos: int, at: str) -> pj.Job:
    ids = tuple(f"{job_id}-{n}" for n in range(videos))
    return pj.Job(job_id=job_id, user_id=user, title="t", privacy="private", video_ids=ids, requested_at=at)


def checked(j: pj.Job) -> pj.Job:
    """After the pre-check, with its playlist created."""
    return replace(j, items=j.video_ids, playlist_id="PL1")


def simulate_turns(jobs: list[pj.Job], turns: int) -> list[str]:
    """Which job runs at each turn, each turn adding TURN_ITEMS videos (a job leaves once it has all)."""
    left = {j.job_id: len(j.video_ids) for j in jobs}
    served: dict[str, int] = {}
    ran = []
    for turn in range(turns):
        due = [j for j in jobs if left[j.job_id] > 0]
        chosen = sc.next_job(due, served)
        if chosen is None:
            break
        ran.append(chosen.job_id)
        served[chosen.user_id] = turn
        left[chosen.job_id] = max(0, left[chosen.job_id] - sc.TURN_ITEMS)
    return ran


def test_users_take_turns_and_a_users_jobs_run_oldest_first() -> None:
    a = job("a", "google:A", 2000, "2026-01-15T10:00:00Z")
    b1 = job("b1", "google:B", 10, "2026-01-15T11:00:00Z")
    b2 = job("b2", "google:B", 5, "2026-01-15T11:30:00Z")
    c = job("c", "google:C", 5, "2026-01-15T11:10:00Z")
    ran = simulate_turns([a, b2, c, b1], 12)
    assert ran == ["a", "b1", "c", "a", "b1", "a", "b2", "a", "a", "a", "a", "a"]


def test_the_plan_puts_a_small_request_before_a_huge_one() -> None:
    a = checked(job("a", "google:A", 2000, "2026-01-15T10:00:00Z"))
    b = job("b", "google:B", 10, "2026-01-15T11:00:00Z")
    places = sc.plan([a, b], served={"google:A": 7})  # A just had a turn: B is next
    # B: the pre-check (1 unit), its playlist (50), then two turns of 5 inserts with one of A's between them.
    assert places["b"] == sc.Place(position=1, units=1 + 50 + 5 * 50 + 5 * 50 + 5 * 50)
    assert places["a"].position == 2 and places["a"].units == 51 + 2010 * 50
    again = sc.plan([a, b], served={"google:B": 7})  # B just had a turn: A goes first
    assert (again["a"].position, again["b"].position) == (1, 2)
    assert again["b"].units == places["b"].units + 5 * 50  # one more of A's turns before B is done


def test_a_users_later_job_waits_for_the_earlier_one() -> None:
    a = checked(job("a", "google:A", 100, "2026-01-15T10:00:00Z"))
    a2 = checked(job("a2", "google:A", 5, "2026-01-15T10:30:00Z"))
    b = checked(job("b", "google:B", 5, "2026-01-15T11:00:00Z"))
    places = sc.plan([a2, b, a], served={})
    assert (places["a"].position, places["b"].position, places["a2"].position) == (1, 2, 3)
    assert places["b"].units == 10 * 50 and places["a2"].units == (100 + 5 + 5) * 50


def test_the_estimate_counts_whole_quota_days() -> None:
    assert videos_per_day(10_000) == 199
    # Fits today's rest: a second per insert.
    assert sc.finish_at(10 * 50, NOW, spent_today=0, daily_units=10_000) == NOW + timedelta(seconds=10)
    # 400 inserts: 9,000 left today, 11,000 more: a whole day after the first reset, 1,000 units into the next.
    eta = sc.finish_at(20_000, NOW, spent_today=1_000, daily_units=10_000)
    assert eta == RESET + timedelta(days=1, seconds=20)
    # Exactly one more full day ends on that day, not the next.
    assert sc.finish_at(19_000, NOW, spent_today=1_000, daily_units=10_000) == RESET + timedelta(seconds=200)
    # Quota spent: even a small job waits for the reset.
    assert sc.finish_at(50, NOW, spent_today=10_000, daily_units=10_000) == RESET + timedelta(seconds=1)


def test_estimates_read_as_minutes_hours_or_days() -> None:
    assert sc.eta_text(NOW + timedelta(seconds=20), NOW, 10_000) == "about 1 minute"
    assert sc.eta_text(NOW + timedelta(minutes=4, seconds=10), NOW, 10_000) == "about 4 minutes"
    assert sc.eta_text(RESET + timedelta(seconds=30), NOW, 10_000) == (
        "about 20 hours: YouTube allows this site ~199 videos a day"
    )
    assert sc.eta_text(RESET + timedelta(days=1, hours=4), NOW, 10_000) == (
        "about 2 days: YouTube allows this site ~199 videos a day"
    )


def test_progress_names_place_remaining_and_estimate_of_each_job() -> None:
    a = checked(job("a", "google:A", 2000, "2026-01-15T10:00:00Z"))
    b = job("b", "google:B", 10, "2026-01-15T11:00:00Z")
    out = sc.progress([a, b], {"google:A": 1}, NOW, spent_today=0, daily_units=10_000)
    assert (out["b"].queue_position, out["b"].remaining, out["b"].eta_text) == (1, 10, "about 1 minute")
    assert (out["a"].queue_position, out["a"].remaining) == (2, 2000)
    assert out["a"].eta_text == "about 10 days: YouTube allows this site ~199 videos a day"
