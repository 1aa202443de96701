"""The roaring-bitmap Redis module, built by cargo and loaded into a real redis-server: exact set algebra against
Python sets, and the sets kept through DEBUG RELOAD, AOF replay, an AOF rewrite with and without its RDB preamble."""

from __future__ import annotations

import random
import time
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dataget.stack import build_dir
from dataget.stack.private_redis import private_redis
from dataget.stack.services import Service
from runtime.settings import settings_from_env

pytestmark = pytest.mark.slow  # compiles Rust (minutes on a cold cargo cache)

SPACE = 3_000_000
CHUNK = 5_000


def python_sets(rng: random.Random) -> dict[str, set[int]]:
    """Sets spanning many 64K blocks: dense (bitset containers), sparse (arrays), a run and a handful of numbers."""
    return {
        "big": set(rng.sample(range(SPACE), 600_000)),
        "mid": set(rng.sample(range(SPACE), 30_000)),
        "small": set(rng.sample(range(SPACE), 700)),
        "run": set(range(1_000_000, 1_150_000)),
        "few": {0, 65_535, 65_536, SPACE - 1},
    }


def load(client: redis.Redis, sets: dict[str, set[int]]) -> None:
    for name, numbers in sets.items():
        ordered = sorted(numbers)
        for start in range(0, len(ordered), CHUNK):
            client.execute_command("RBM.ADD", name, *ordered[start:start + CHUNK])


def members(client: redis.Redis, key: str) -> set[int]:
    return set(client.execute_command("RBM.MEMBERS", key))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[redis.Redis, Service, Path]]:
    directory = tmp_path_factory.mktemp("roaring-redis")
    with private_redis(directory, build_dir(settings_from_env()), debug_command=True) as (url, service):
        yield redis.Redis.from_url(url), service, directory


def test_commands_match_python_sets(server: tuple[redis.Redis, Service, Path]) -> None:
    client = server[0]
    client.flushall()
    rng = random.Random(14)
    sets = python_sets(rng)
    load(client, sets)
    for name, numbers in sets.items():
        assert client.execute_command("RBM.CARD", name) == len(numbers)
    assert client.execute_command("RBM.CARD", "missing") == 0

    cases = [("RBM.AND", ["big", "mid"]), ("RBM.AND", ["big", "mid", "run"]), ("RBM.AND", ["big", "few"]),
             ("RBM.OR", ["mid", "small", "run", "few"]), ("RBM.OR", ["big", "missing"])]
    for command, keys in cases:
        parts = [sets.get(key, set()) for key in keys]
        expected = set.intersection(*parts) if command == "RBM.AND" else set.union(*parts)
        assert client.execute_command(command, "dest", *keys) == len(expected), (command, keys)
        assert members(client, "dest") == expected, (command, keys)
    assert client.execute_command("RBM.ANDCARD", "big", "mid") == len(sets["big"] & sets["mid"])
    # An empty result leaves no key behind, as SINTERSTORE does.
    assert client.execute_command("RBM.AND", "dest", "big", "missing") == 0
    assert client.exists("dest") == 0

    probes = rng.sample(range(SPACE), 50) + sorted(sets["mid"])[:50]
    assert client.execute_command("RBM.MISMEMBER", "mid", *probes) == [int(n in sets["mid"]) for n in probes]
    ordered = sorted(sets["mid"])
    for offset in [*rng.sample(range(SPACE), 30), 0, ordered[-1], ordered[-1] + 1]:
        at = bisect_left(ordered, offset)
        assert client.execute_command("RBM.NEXT", "mid", offset) == (ordered[at] if at < len(ordered) else -1)
    assert client.execute_command("RBM.SELECT", "mid", 1234) == ordered[1234]
    assert client.execute_command("RBM.SELECT", "mid", len(ordered)) == -1

    # A plain bitmap made by SETBIT converts both ways, bit for bit.
    for n in sets["small"]:
        client.setbit("plain", n, 1)
    assert client.execute_command("RBM.FROMBITMAP", "conv", "plain") == len(sets["small"])
    assert members(client, "conv") == sets["small"]
    assert client.execute_command("RBM.TOBITMAP", "conv") == client.get("plain")

    # Scripts reach the commands through redis.call, as the index's Lua would.
    script = "return redis.call('RBM.AND', KEYS[1], KEYS[2], KEYS[3])"
    assert client.eval(script, 3, "dest", "big", "run") == len(sets["big"] & sets["run"])

    removed = sorted(sets["small"])[:100]
    gone = (set(removed) | {7}) & sets["small"]
    assert client.execute_command("RBM.REM", "small", *removed, 7) == len(gone)
    assert members(client, "small") == sets["small"] - gone
    assert client.execute_command("RBM.REM", "few", *sets["few"]) == len(sets["few"])
    assert client.exists("few") == 0

    assert client.type("big") == b"roaringbm"
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.execute_command("RBM.CARD", "plain")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        client.execute_command("RBM.ADD", "big", -1)
    # MEMORY USAGE follows what a set holds: a 20%-dense set costs bitset containers, 700 numbers about 2 bytes each.
    assert client.memory_usage("big") > 46 * 8192
    assert client.memory_usage("small") < 700 * 2 + 47 * 40 + 200


def wait_rewrite(client: redis.Redis) -> None:
    client.bgrewriteaof()
    deadline = time.monotonic() + 60
    while client.info("persistence")["aof_rewrite_in_progress"] or client.info("persistence")["aof_rewrite_scheduled"]:
        assert time.monotonic() < deadline, "AOF rewrite did not end"
        time.sleep(0.2)


def test_sets_survive_reload_and_restarts(server: tuple[redis.Redis, Service, Path]) -> None:
    client, service, directory = server
    client.flushall()
    sets = python_sets(random.Random(41))
    load(client, sets)
    client.execute_command("RBM.OR", "union", *sets)
    sets["union"] = set().union(*sets.values())

    def restart() -> None:
        service.process(directory).stop()
        service.start(directory)

    steps = [
        ("DEBUG RELOAD (RDB save and load)", lambda: client.execute_command("DEBUG", "RELOAD")),
        ("restart replaying the AOF's commands", restart),
        ("restart from a rewrite with its RDB preamble", lambda: (wait_rewrite(client), restart())),
        ("restart from a rewrite as RBM.ORBYTES commands",
         lambda: (client.config_set("aof-use-rdb-preamble", "no"), wait_rewrite(client), restart())),
    ]
    for what, step in steps:
        step()
        assert sorted(key.decode() for key in client.keys()) == sorted(sets), what
        for name, numbers in sets.items():
            assert members(client, name) == numbers, (what, name)
