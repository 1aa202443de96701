"""The shared pause of Redis' automatic AOF rewrites, on a Redis of the test's own (it changes the server's
settings): holders, expiry, the setting put back with one rewrite, and the live worker's backlog rule."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from sinks.aof_rewrites import (
    AOF_REWRITE,
    HOLDERS_KEY,
    BacklogPause,
    RewritePause,
    release_holders,
    settle,
)


async def setting(redis: Redis) -> str:
    return str((await redis.config_get(AOF_REWRITE))[AOF_REWRITE])


async def forks(redis: Redis) -> int:
    return int((await redis.info("stats"))["total_forks"])


async def test_rewrites_wait_for_the_last_holder_then_one_runs(small_redis: Redis) -> None:
    reindex, worker = RewritePause(small_redis, "small", "reindex"), RewritePause(small_redis, "small", "worker")
    await reindex.hold()
    await worker.hold()
    assert await setting(small_redis) == "0"
    before = await forks(small_redis)
    await reindex.release()
    assert await setting(small_redis) == "0"  # the worker still builds
    await worker.release()
    assert await setting(small_redis) == "100"
    assert await forks(small_redis) > before  # the rewrite the builds went without


async def test_the_sets_a_build_wrote_are_packed_when_the_last_holder_lets_go(small_redis: Redis) -> None:
    pause = RewritePause(small_redis, "small", "worker")
    await pause.hold()
    await small_redis.execute_command("RBM.ADD", "ns:k:rock", 1, 2, 3)
    await pause.release()
    assert await small_redis.execute_command("RBM.PACK", "ns:k:rock") == 0  # packed already
    await small_redis.execute_command("RBM.ADD", "ns:k:rock", 4)
    assert not await settle(small_redis)  # no build held off the rewrites: nothing to settle, nothing packed
    assert await small_redis.execute_command("RBM.PACK", "ns:k:rock") == 1


async def test_a_killed_holders_pause_expires_and_the_next_look_resumes(small_redis: Redis) -> None:
    await RewritePause(small_redis, "small", "killed", ttl_s=0.2).hold()
    assert not await settle(small_redis)
    assert await setting(small_redis) == "0"
    await asyncio.sleep(0.3)
    assert await settle(small_redis)
    assert await setting(small_redis) == "100"


async def test_a_setting_changed_while_paused_is_paused_again_and_the_first_one_comes_back(small_redis: Redis) -> None:
    pause = RewritePause(small_redis, "small", "worker")
    await pause.hold()
    await small_redis.config_set(AOF_REWRITE, 50)  # another holder's resume racing this hold
    await pause.hold()
    assert await setting(small_redis) == "0"
    await pause.release()
    assert await setting(small_redis) == "100"


async def test_a_reindex_lets_go_of_its_stopped_workers_holds_only(small_redis: Redis) -> None:
    for holder in ("replay-a:1", "replay-a:2", "replay-ab:1"):
        await RewritePause(small_redis, "small", holder).hold()
    await release_holders(small_redis, "replay-a:")
    assert [h.decode() for h in await small_redis.zrange(HOLDERS_KEY, 0, -1)] == ["replay-ab:1"]
    assert await setting(small_redis) == "0"
    await release_holders(small_redis, "replay-ab:")
    assert await setting(small_redis) == "100"


class _RefusingConfig:
    async def time(self) -> tuple[int, int]:
        return (1, 0)

    async def zadd(self, key: str, mapping: dict[str, float]) -> int:
        return 1

    async def config_get(self, name: str) -> dict[str, str]:
        raise ResponseError("unknown command 'CONFIG'")


async def test_rewrites_turned_off_by_an_operator_stay_off_and_a_refused_config_is_said_once(
        small_redis: Redis, caplog: pytest.LogCaptureFixture) -> None:
    await small_redis.config_set(AOF_REWRITE, 0)
    pause = RewritePause(small_redis, "small", "worker")
    await pause.hold()
    await pause.release()
    assert await setting(small_redis) == "0"
    assert "AOF rewrites are off in Redis at small" in caplog.text
    managed = RewritePause(_RefusingConfig(), "managed", "worker")  # type: ignore[arg-type]
    await managed.hold()
    await managed.hold()
    assert caplog.text.count("could not pause AOF rewrites in Redis at managed") == 1


class _Pause:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def hold(self) -> None:
        self.calls.append("hold")

    async def release(self) -> None:
        self.calls.append("release")


async def test_the_worker_holds_from_a_backlog_until_a_tenth_of_it_is_left() -> None:
    to_go = [0, 150_000, 50_000, 12_000, 9_000, 99_000]
    pause = _Pause()

    async def progress() -> tuple[int, int]:
        return 0, to_go.pop(0)

    backlog = BacklogPause(pause, progress, hold_from=100_000)  # type: ignore[arg-type]
    for _ in range(6):
        await backlog.follow()
    assert pause.calls == ["release", "hold", "hold", "hold", "release", "release"]


async def test_a_worker_that_cannot_look_goes_on_writing_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    pause = _Pause()

    async def progress() -> tuple[int, int]:
        raise OSError("Kafka is away")

    await BacklogPause(pause, progress, hold_from=10).follow()  # type: ignore[arg-type]
    assert pause.calls == [] and "could not hold or release AOF rewrites" in caplog.text
