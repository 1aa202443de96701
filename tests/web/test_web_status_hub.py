import pytest

from web.kafka_io import decode_snapshot
from web.status_hub import QUEUE_SIZE, StatusHub, TooManySockets, is_terminal


def snap(seq, job="j1", state="running"):
    return {"job_id": job, "seq": seq, "state": state}


async def test_latest_keeps_highest_seq():
    hub = StatusHub()
    assert hub.apply(snap(2))
    assert not hub.apply(snap(1))
    assert not hub.apply(snap(2))
    assert hub.latest("j1")["seq"] == 2
    assert hub.latest("other") is None


async def test_malformed_snapshots_are_ignored():
    hub = StatusHub()
    for bad in (None, [], {"job_id": "j1"}, {"job_id": 1, "seq": 1}, {"job_id": "j1", "seq": "3"}):
        assert not hub.apply(bad)
    assert hub.latest("j1") is None


async def test_subscriber_gets_latest_then_only_its_job():
    hub = StatusHub()
    hub.apply(snap(1))
    sub = hub.subscribe("j1")
    hub.apply(snap(1, job="j2"))
    hub.apply(snap(2))
    assert [(await sub.get())["seq"], (await sub.get())["seq"]] == [1, 2]


async def test_since_skips_what_the_client_has():
    hub = StatusHub()
    hub.apply(snap(5))
    sub = hub.subscribe("j1", since=5)
    hub.apply(snap(6))
    assert (await sub.get())["seq"] == 6


async def test_slow_subscriber_loses_old_snapshots_not_the_newest():
    hub = StatusHub()
    sub = hub.subscribe("j1")
    for seq in range(1, QUEUE_SIZE * 3):
        hub.apply(snap(seq))
    got = [(await sub.get())["seq"] for _ in range(QUEUE_SIZE)]
    assert got[-1] == QUEUE_SIZE * 3 - 1
    assert got == sorted(got)


async def test_unsubscribe_and_close():
    hub = StatusHub()
    gone, kept = hub.subscribe("j1"), hub.subscribe("j1")
    hub.unsubscribe(gone)
    hub.apply(snap(1))
    hub.close()
    assert (await kept.get())["seq"] == 1
    assert await kept.get() is None
    assert gone._queue.empty()


def test_terminal_states_and_decoding():
    assert is_terminal(snap(1, state="done")) and is_terminal(snap(1, state="failed"))
    assert not is_terminal(snap(1, state="waiting_for_quota"))
    assert decode_snapshot(b'{"job_id": "a", "seq": 1}') == {"job_id": "a", "seq": 1}
    assert decode_snapshot(None) is None
    assert decode_snapshot(b"{not json") is None


def finished(seq, job, updated_at, state="done"):
    return {"job_id": job, "seq": seq, "state": state, "updated_at": updated_at}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_finished_jobs_leave_memory_after_the_retention():
    t0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
    clock = Clock(t0)
    hub = StatusHub(clock=clock, finished_retention_s=600)
    hub.apply(finished(3, "done-now", "2027-01-15T08:00:00Z"))
    hub.apply(snap(2, job="running"))
    clock.now = t0 + 599
    hub.apply(snap(3, job="running"))
    assert hub.latest("done-now") is not None
    clock.now = t0 + 601
    hub.apply(snap(4, job="running"))  # any apply drops what is due
    assert hub.latest("done-now") is None
    assert hub.latest("running")["seq"] == 4  # unfinished jobs stay


async def test_long_finished_jobs_read_from_the_topic_are_not_kept():
    hub = StatusHub(clock=Clock(1_800_000_000.0), finished_retention_s=600)
    assert hub.apply(finished(9, "old", "2026-01-01T00:00:00Z", state="failed"))
    assert hub.latest("old") is None


async def test_a_subscriber_still_gets_the_final_snapshot_of_a_long_finished_job():
    hub = StatusHub(clock=Clock(1_800_000_000.0), finished_retention_s=600)
    sub = hub.subscribe("old")
    hub.apply(finished(9, "old", "2026-01-01T00:00:00Z"))
    assert (await sub.get())["seq"] == 9


async def test_open_sockets_are_capped_per_user_and_per_process():
    hub = StatusHub(max_sockets=3, max_sockets_per_user=2)
    first = hub.subscribe("j1", user_id="u1")
    hub.subscribe("j2", user_id="u1")
    with pytest.raises(TooManySockets, match="per user"):
        hub.subscribe("j3", user_id="u1")
    hub.subscribe("j1", user_id="u2")
    with pytest.raises(TooManySockets, match="too many"):
        hub.subscribe("j1", user_id="u3")
    hub.unsubscribe(first)
    hub.unsubscribe(first)  # twice counts once
    hub.subscribe("j3", user_id="u1")
    with pytest.raises(TooManySockets):
        hub.subscribe("j3", user_id="u4")
