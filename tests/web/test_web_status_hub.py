from web.kafka_io import decode_snapshot
from web.status_hub import QUEUE_SIZE, StatusHub, is_terminal


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
