"""The pure job state machine: parsing, transitions, snapshots, Pacific quota days."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import jsonschema
import pytest

from schemas.generate import load_schema
from schemas.playlist_jobs import MAX_PLAYLIST_ITEMS
from stream_processors.youtube import jobs as pj

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def request(**changes: object) -> dict[str, object]:
    message = {
        "job_id": str(uuid.uuid4()),
        "user_id": "google:42",
        "title": " Deep house 1994 ",
        "privacy": "private",
        "query": {"style": ["Deep House"]},
        "video_ids": ["a", "b", "c", "d"],
        "requested_at": "2026-03-01T10:00:00Z",
    }
    return {**message, **changes}


def test_parse_job_keeps_the_request() -> None:
    job = pj.parse_job(request())
    assert (job.title, job.privacy, job.video_ids, job.state, job.seq) == (
        "Deep house 1994", "private", ("a", "b", "c", "d"), "queued", 1
    )
    assert job.total == 4 and job.remaining == ()


@pytest.mark.parametrize(
    "bad",
    [request(privacy="public"), request(video_ids="abc"), request(video_ids=["a", ""]), request(title="  "),
     request(job_id=None), ["not", "an", "object"]],
)
def test_parse_job_rejects_malformed_requests(bad: object) -> None:
    with pytest.raises(pj.InvalidJob):
        pj.parse_job(bad)


def test_a_full_run_counts_every_video_once_and_numbers_snapshots() -> None:
    job = pj.start(pj.parse_job(request(video_ids=["a", "b", "a", "gone", "c"])))
    job = pj.checked(job, {"a", "b", "c"})
    assert job.items == ("a", "b", "c") and job.skipped == 2  # "gone" and the second "a"
    job = pj.playlist_created(job, "PL1")
    job = pj.item_added(job)
    job = pj.item_skipped(job)  # "b" vanished between the pre-check and its insert
    assert job.remaining == ("c",)
    job = pj.finished(pj.item_added(job))
    snap = pj.snapshot(job, NOW)
    assert (snap["state"], snap["done"], snap["skipped"], snap["total"], snap["playlist_id"]) == (
        "done", 2, 3, 5, "PL1"
    )
    assert snap["seq"] == 8
    jsonschema.validate(snap, load_schema("playlist.status"))


def test_snapshot_of_a_parked_job_tells_when_it_resumes() -> None:
    job = pj.parked(pj.start(pj.parse_job(request())), pj.next_reset(NOW))
    snap = pj.snapshot(job, NOW)
    assert snap["state"] == "waiting_for_quota"
    assert "2026-03-02 00:00 Pacific" in snap["error"] and "08:00 UTC" in snap["error"]
    jsonschema.validate(snap, load_schema("playlist.status"))
    assert pj.start(job).error is None and pj.start(job).resume_at is None


def test_reconciled_skips_what_already_landed() -> None:
    job = pj.playlist_created(pj.checked(pj.parse_job(request()), {"a", "b", "c", "d"}), "PL1")
    job = pj.item_added(job)
    after_crash = pj.reconciled(job, {"a", "b"})
    assert (after_crash.next_index, after_crash.done, after_crash.remaining) == (2, 2, ("c", "d"))
    assert pj.reconciled(job, {"a"}) is job  # nothing new: no extra snapshot


def test_job_document_round_trip() -> None:
    job = pj.parked(pj.checked(pj.parse_job(request()), {"a"}), pj.next_reset(NOW))
    doc = job.to_doc()
    assert doc["_id"] == job.job_id and isinstance(doc["resume_at"], str)
    assert pj.Job.from_doc({**doc, "owner": "w1", "lease_until": None}) == job


def test_a_placed_job_says_where_it_stands_until_it_ends() -> None:
    job = pj.parse_job(request(video_ids=["a", "b", "a", "c"]))
    assert "queue_position" not in pj.snapshot(job, NOW)  # not placed yet
    job = pj.placed(job, 3, NOW + timedelta(days=2), "about 2 days: YouTube allows this site ~199 videos a day")
    snap = pj.snapshot(job, NOW)
    assert (snap["queue_position"], snap["remaining"], snap["eta"]) == (3, 3, "2026-03-03T12:00:00Z")
    assert snap["eta_text"].startswith("about 2 days")
    jsonschema.validate(snap, load_schema("playlist.status"))
    assert pj.Job.from_doc(job.to_doc()) == job
    # A turn ends with the job back in the queue, its remaining count following its progress.
    job = pj.item_added(pj.playlist_created(pj.checked(pj.start(job), {"a", "b", "c"}), "PL1"))
    paused = pj.paused(job)
    assert (paused.state, paused.seq, pj.snapshot(paused, NOW)["remaining"]) == ("queued", job.seq + 1, 2)
    assert "queue_position" not in pj.snapshot(pj.finished(paused), NOW)


def test_too_long_counts_distinct_videos() -> None:
    ids = [f"v{n}" for n in range(MAX_PLAYLIST_ITEMS)]
    assert pj.too_long(pj.parse_job(request(video_ids=ids + ids[:10]))) is None
    assert "5000" in (pj.too_long(pj.parse_job(request(video_ids=[*ids, "one-more"]))) or "")


@pytest.mark.parametrize(
    ("status", "playable"),
    [({"privacyStatus": "public", "embeddable": True}, True), ({"privacyStatus": "unlisted"}, True),
     ({"privacyStatus": "private", "embeddable": True}, False), ({"privacyStatus": "public", "embeddable": False},
                                                                  False)],
)
def test_is_playable(status: dict[str, object], playable: bool) -> None:
    assert pj.is_playable({"id": "x", "status": status}) is playable


def test_chunks_of_fifty() -> None:
    sizes = [len(c) for c in pj.chunks([str(n) for n in range(120)])]
    assert sizes == [50, 50, 20]


@pytest.mark.parametrize(
    ("now", "day", "reset"),
    [
        # Winter (PST, UTC-8): reset at 08:00 UTC; 03:00 UTC is still the previous Pacific day.
        (datetime(2026, 1, 15, 3, 0, tzinfo=UTC), date(2026, 1, 14), datetime(2026, 1, 15, 8, 0, tzinfo=UTC)),
        (datetime(2026, 1, 15, 8, 0, tzinfo=UTC), date(2026, 1, 15), datetime(2026, 1, 16, 8, 0, tzinfo=UTC)),
        # Summer (PDT, UTC-7): reset at 07:00 UTC.
        (datetime(2026, 7, 1, 6, 59, tzinfo=UTC), date(2026, 6, 30), datetime(2026, 7, 1, 7, 0, tzinfo=UTC)),
        # DST starts 2026-03-08 02:00 PST: that day's reset is still at 08:00 UTC, the next one at 07:00.
        (datetime(2026, 3, 7, 20, 0, tzinfo=UTC), date(2026, 3, 7), datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), date(2026, 3, 8), datetime(2026, 3, 9, 7, 0, tzinfo=UTC)),
        # DST ends 2026-11-01 02:00 PDT: the 25-hour day ends at 08:00 UTC.
        (datetime(2026, 11, 1, 7, 30, tzinfo=UTC), date(2026, 11, 1), datetime(2026, 11, 2, 8, 0, tzinfo=UTC)),
    ],
)
def test_quota_days_follow_pacific_midnight(now: datetime, day: date, reset: datetime) -> None:
    assert pj.quota_day(now) == day
    assert pj.next_reset(now) == reset


def test_due_holds_parked_jobs_until_reset() -> None:
    reset = pj.next_reset(NOW)
    queued = pj.parse_job(request())
    parked = pj.parked(pj.start(pj.parse_job(request())), reset)
    done = pj.finished(pj.parse_job(request()))
    assert pj.due([queued, parked, done], NOW) == [queued]
    assert pj.due([queued, parked, done], reset) == [queued, parked]
