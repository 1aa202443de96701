"""The roaring-bitmap Redis module in a real redis-server: exact set algebra against Python sets on the stack's Redis
(which loads it), and, on a private server (slow), the sets kept through DEBUG RELOAD, AOF replay and an AOF rewrite
with and without its RDB preamble."""

from __future__ import annotations

import hashlib
import random
import struct
import time
from bisect import bisect_left
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dataget.stack import build_dir
from dataget.stack.private_redis import private_redis
from dataget.stack.services import Service
from runtime.settings import Settings, settings_from_env

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


def load(client: redis.Redis, sets: dict[str, set[int]], prefix: str = "") -> None:
    for name, numbers in sets.items():
        ordered = sorted(numbers)
        for start in range(0, len(ordered), CHUNK):
            client.execute_command("RBM.ADD", prefix + name, *ordered[start:start + CHUNK])


def members(client: redis.Redis, key: str) -> set[int]:
    return set(client.execute_command("RBM.MEMBERS", key))


def test_commands_match_python_sets(isolated_settings: Settings) -> None:
    """On the stack's Redis, under the test's own namespace."""
    client = redis.Redis.from_url(isolated_settings.redis_url)
    ns = f"{isolated_settings.namespace}:"
    rng = random.Random(14)
    sets = python_sets(rng)
    load(client, sets, ns)
    for name, numbers in sets.items():
        assert client.execute_command("RBM.CARD", ns + name) == len(numbers)
    assert client.execute_command("RBM.CARD", ns + "missing") == 0

    cases = [("RBM.AND", ["big", "mid"]), ("RBM.AND", ["big", "mid", "run"]), ("RBM.AND", ["big", "few"]),
             ("RBM.AND", ["run", "mid", "big", "mid"]), ("RBM.OR", ["mid", "small", "run", "few"]),
             ("RBM.OR", ["big", "missing"]), ("RBM.OR", ["small"]), ("RBM.ANDNOT", ["big", "mid", "missing", "run"]),
             ("RBM.ANDNOT", ["missing", "big"])]
    combined = {"RBM.AND": lambda first, *rest: first.intersection(*rest),
                "RBM.OR": lambda first, *rest: first.union(*rest),
                "RBM.ANDNOT": lambda first, *rest: first.difference(*rest)}
    for command, keys in cases:
        expected = combined[command](*(sets.get(key, set()) for key in keys))
        stored = client.execute_command(command, ns + "dest", *(ns + key for key in keys))
        assert stored == len(expected), (command, keys)
        assert members(client, ns + "dest") == expected, (command, keys)
    assert client.execute_command("RBM.ANDCARD", ns + "big", ns + "mid") == len(sets["big"] & sets["mid"])
    # An empty result leaves no key behind, as SINTERSTORE does.
    assert client.execute_command("RBM.AND", ns + "dest", ns + "big", ns + "missing") == 0
    assert client.exists(ns + "dest") == 0

    # Per key, the smallest number it shares with the first set: -1 for a disjoint or missing one.
    keys = ["small", "few", "missing", "run", "dest", "big"]
    firsts = client.execute_command("RBM.FIRSTIN", ns + "mid", *(ns + key for key in keys))
    assert firsts == [min(sets["mid"] & members(client, ns + key), default=-1) for key in keys]
    assert any(n >= 0 for n in firsts) and -1 in firsts
    client.sadd(ns + "plain-set", 1)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.execute_command("RBM.FIRSTIN", ns + "mid", ns + "plain-set")

    probes = rng.sample(range(SPACE), 50) + sorted(sets["mid"])[:50]
    assert client.execute_command("RBM.MISMEMBER", ns + "mid", *probes) == [int(n in sets["mid"]) for n in probes]
    ordered = sorted(sets["mid"])
    for offset in [*rng.sample(range(SPACE), 30), 0, ordered[-1], ordered[-1] + 1]:
        at = bisect_left(ordered, offset)
        assert client.execute_command("RBM.NEXT", ns + "mid", offset) == (ordered[at] if at < len(ordered) else -1)
    assert client.execute_command("RBM.SELECT", ns + "mid", 1234) == ordered[1234]
    assert client.execute_command("RBM.SELECT", ns + "mid", len(ordered)) == -1

    # A plain bitmap made by SETBIT converts both ways, bit for bit.
    for n in sets["small"]:
        client.setbit(ns + "plain", n, 1)
    assert client.execute_command("RBM.FROMBITMAP", ns + "conv", ns + "plain") == len(sets["small"])
    assert members(client, ns + "conv") == sets["small"]
    assert client.execute_command("RBM.TOBITMAP", ns + "conv") == client.get(ns + "plain")

    # Scripts reach the commands through redis.call, as the index's Lua would.
    script = "return redis.call('RBM.AND', KEYS[1], KEYS[2], KEYS[3])"
    assert client.eval(script, 3, ns + "dest", ns + "big", ns + "run") == len(sets["big"] & sets["run"])

    removed = sorted(sets["small"])[:100]
    gone = (set(removed) | {7}) & sets["small"]
    assert client.execute_command("RBM.REM", ns + "small", *removed, 7) == len(gone)
    assert members(client, ns + "small") == sets["small"] - gone
    assert client.execute_command("RBM.REM", ns + "few", *sets["few"]) == len(sets["few"])
    assert client.exists(ns + "few") == 0

    assert client.type(ns + "big") == b"roaringbm"
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.execute_command("RBM.CARD", ns + "plain")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        client.execute_command("RBM.ADD", ns + "big", -1)
    # MEMORY USAGE follows what a set holds: a 20%-dense set costs bitset containers, 700 numbers about 2 bytes each.
    assert client.memory_usage(ns + "big") > 46 * 8192
    assert client.memory_usage(ns + "small") < 700 * 2 + 47 * 40 + 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[redis.Redis, Service, Path]]:
    """A private server of the stack's making with DEBUG allowed: this one may be flushed, reloaded and restarted."""
    directory = tmp_path_factory.mktemp("roaring-redis")
    with private_redis(directory, build_dir(settings_from_env()), debug_command=True) as (url, service):
        yield redis.Redis.from_url(url), service, directory


def wait_rewrite(client: redis.Redis) -> None:
    client.bgrewriteaof()
    deadline = time.monotonic() + 60
    while client.info("persistence")["aof_rewrite_in_progress"] or client.info("persistence")["aof_rewrite_scheduled"]:
        assert time.monotonic() < deadline, "AOF rewrite did not end"
        time.sleep(0.2)


@pytest.mark.slow  # restarts and AOF rewrites of a few MB
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


def bucket_of(name: bytes) -> int:
    """The bucket of a small number set's field: the first 17 bits of its SHA-1."""
    return int(hashlib.sha1(name).hexdigest()[:5], 16) // 8


def where_numbers(client: redis.Redis, ns: str, key: str) -> tuple[str, set[int]]:
    """Where number set `key` lives (its bucket, a SET or a roaring bitmap) and its numbers."""
    field = key[len(ns) + 1:].encode()
    packed = client.hget(f"{ns}:sb:{bucket_of(field)}", field)
    kind = client.type(key).decode()
    if kind == "roaringbm":
        assert packed == b""
        return kind, members(client, key)
    if kind == "set":
        assert packed == b""
        return kind, {int(n) for n in client.smembers(key)}
    assert kind == "none"
    return "bucket", set(struct.unpack(f"<{len(packed) // 4}I", packed)) if packed else set()


def file(client: redis.Redis, ns: str, *filings: tuple[str, list[int], list[int]]) -> None:
    args: list[object] = []
    for key, rems, adds in filings:
        args += [key, len(rems), len(adds), *rems, *adds]
    client.execute_command("RBM.FILE", ns, *args)


def test_file_moves_a_set_from_its_bucket_to_a_set_then_a_roaring_bitmap(isolated_settings: Settings) -> None:
    client = redis.Redis.from_url(isolated_settings.redis_url)
    ns = isolated_settings.namespace
    key = f"{ns}:k:v:0:label:Über Records"
    field = key[len(ns) + 1:].encode()
    assert client.execute_command("RBM.BUCKET", field) == bucket_of(field)

    file(client, ns, (key, [], [5, 3, 9]))
    assert client.hget(f"{ns}:sb:{bucket_of(field)}", field) == struct.pack("<3I", 3, 5, 9)  # ascending u32s
    file(client, ns, (key, [5], list(range(100, 113))))
    assert where_numbers(client, ns, key) == ("bucket", {3, 9, *range(100, 113)})  # 15: still in the bucket
    file(client, ns, (key, [], [200]))
    assert where_numbers(client, ns, key) == ("set", {3, 9, 200, *range(100, 113)})
    file(client, ns, (key, [3], list(range(1000, 1500))))
    assert where_numbers(client, ns, key) == ("roaringbm", {9, 200, *range(100, 113), *range(1000, 1500)})
    file(client, ns, (key, [9, 200, *range(100, 113), *range(1000, 1500)], []))
    assert where_numbers(client, ns, key) == ("bucket", set())
    assert client.exists(f"{ns}:sb:{bucket_of(field)}") == 0

    # A SET that empties loses its key and its field; one filed at once past 512 numbers is a roaring bitmap.
    small, big = f"{ns}:mr:7", f"{ns}:tr:v"
    file(client, ns, (small, [], list(range(20))), (big, [], list(range(600))))
    assert where_numbers(client, ns, small) == ("set", set(range(20)))
    assert where_numbers(client, ns, big) == ("roaringbm", set(range(600)))
    file(client, ns, (small, list(range(20)), []))
    assert where_numbers(client, ns, small) == ("bucket", set())


def test_file_checks_every_filing_before_writing(isolated_settings: Settings) -> None:
    client = redis.Redis.from_url(isolated_settings.redis_url)
    ns = isolated_settings.namespace
    first, second = f"{ns}:k:r:0:genre:Jazz", f"{ns}:k:r:0:genre:Rock"
    with pytest.raises(redis.ResponseError, match="not an integer"):
        file(client, ns, (first, [], [1]), (second, [], [-2]))
    with pytest.raises(redis.ResponseError, match="namespace"):
        file(client, ns, (first, [], [1]), ("elsewhere:k:r:0:genre:Rock", [], [2]))
    with pytest.raises(redis.ResponseError, match="wrong number"):
        client.execute_command("RBM.FILE", ns, first, 0, 2, 1)
    assert where_numbers(client, ns, first) == ("bucket", set())
    client.set(second, "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        file(client, ns, (second, [], [1]))


def test_file_matches_python_sets(isolated_settings: Settings) -> None:
    client = redis.Redis.from_url(isolated_settings.redis_url)
    ns = isolated_settings.namespace
    rng = random.Random(5)
    keys = [f"{ns}:k:v:{n}:style:s{n}" for n in range(6)]
    model: dict[str, set[int]] = {key: set() for key in keys}
    for _ in range(200):
        filings = []
        for key in rng.sample(keys, 3):
            held = sorted(model[key])
            rems = rng.sample(held, min(len(held), rng.choice([0, 1, 5, 40])))
            adds = [n for n in rng.sample(range(5000), rng.choice([0, 1, 3, 30, 300])) if n not in rems]
            model[key] = (model[key] - set(rems)) | set(adds)
            filings.append((key, rems, adds))
        file(client, ns, *filings)
    for key in keys:
        assert where_numbers(client, ns, key)[1] == model[key], key


def contents(client: redis.Redis) -> dict[bytes, object]:
    out: dict[bytes, object] = {}
    for key in client.keys():
        kind = client.type(key)
        out[key] = (kind, members(client, key.decode()) if kind == b"roaringbm" else
                    client.smembers(key) if kind == b"set" else client.hgetall(key))
    return out


def test_filings_replay_from_the_aof(server: tuple[redis.Redis, Service, Path]) -> None:
    """Scripts call RBM.FILE, which reaches the AOF as itself: a restart replaying it rebuilds the same sets."""
    client, service, directory = server
    client.flushall()
    client.config_set("aof-use-rdb-preamble", "yes")
    wait_rewrite(client)  # an empty base: the restart below replays every filing as a command
    rng = random.Random(8)
    script = "return redis.call('RBM.FILE', unpack(ARGV))"
    for _ in range(60):
        args: list[object] = ["ns"]
        for key in rng.sample([f"ns:k:v:0:f:{n}" for n in range(5)], 2):
            adds = rng.sample(range(2000), rng.choice([1, 4, 20, 600]))
            rems = rng.sample(range(2000), rng.choice([0, 10, 400]))
            rems = [n for n in rems if n not in adds]
            args += [key, len(rems), len(adds), *rems, *adds]
        client.eval(script, 0, *args)
    before = contents(client)
    assert any(kind == b"roaringbm" for kind, _ in before.values())
    service.process(directory).stop()
    service.start(directory)
    assert contents(client) == before
