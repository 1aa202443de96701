"""Packing every roaring set of a Redis, on a Redis of the test's own (packing is server-wide)."""

from __future__ import annotations

from redis.asyncio import Redis

from sinks.set_packing import SCAN_PAGE, pack_sets


async def test_every_roaring_set_is_packed_once_and_a_write_unpacks_it(small_redis: Redis) -> None:
    names = [f"ns{n % 2}:k:{n}" for n in range(SCAN_PAGE + 300)]  # more than one SCAN page, two namespaces
    pipe = small_redis.pipeline(transaction=False)
    for n, name in enumerate(names):
        pipe.execute_command("RBM.ADD", name, n, n + 70_000, 500_000)
    await pipe.execute()
    await small_redis.sadd("ns0:plain", 1, 2)
    await small_redis.set("ns0:text", "x")

    assert await pack_sets(small_redis) == len(names)
    assert await pack_sets(small_redis) == 0  # packed already
    assert await small_redis.execute_command("RBM.MEMBERS", names[7]) == [7, 70_007, 500_000]
    assert await small_redis.smembers("ns0:plain") == {b"1", b"2"}

    assert await small_redis.execute_command("RBM.ADD", names[7], 8) == 1
    assert await small_redis.execute_command("RBM.MEMBERS", names[7]) == [7, 8, 70_007, 500_000]
    assert await pack_sets(small_redis) == 1  # the one written since
