"""The roaring-bitmap Redis module in a real redis-server: exact set algebra against Python sets on the stack's Redis
(which loads it), and, on a private server (slow), the sets kept through DEBUG RELOAD, AOF replay and an AOF rewrite
with and without its RDB preamble, and the facet index's writes replayed from the AOF."""

from __future__ import annotations

import json
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


def tail_bytes(tail: dict[int, list[int]]) -> bytes:
    """Owners' tail items as RBM.TAILMERGE takes them: little-endian u32s, owner, count, items..."""
    words = [word for owner, items in tail.items() for word in (owner, len(items), *items)]
    return b"".join(word.to_bytes(4, "little") for word in words)


def tail_items(client: redis.Redis, key: str) -> dict[int, list[int]]:
    return {owner: items for owner, *items in client.execute_command("RBM.TAILITEMS", key)}


@pytest.mark.parametrize("packed", [False, True], ids=["live", "packed"])
def test_commands_match_python_sets(isolated_settings: Settings, packed: bool) -> None:
    """On the stack's Redis, under the test's own namespace; every read and write of a packed set as of a live one."""
    client = redis.Redis.from_url(isolated_settings.redis_url)
    ns = f"{isolated_settings.namespace}:"
    rng = random.Random(14)
    sets = python_sets(rng)
    load(client, sets, ns)
    client.set(ns + "text", "x")
    if packed:
        assert client.execute_command("RBM.PACK", *(ns + name for name in sets), ns + "text", ns + "missing") == 5
        assert client.execute_command("RBM.PACK", ns + "big") == 0
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
    # An ownertail value too: more owners than one RBM.TAILMERGE of an AOF rewrite carries.
    tail = {owner: sorted(random.Random(owner).sample(range(SPACE), owner % 4 + 1)) for owner in range(0, 60_000, 3)}
    client.execute_command("RBM.TAILMERGE", "tail", tail_bytes(tail))
    client.execute_command("RBM.PACK", "big", "run")  # packed sets are saved as live ones are

    steps = [
        ("DEBUG RELOAD (RDB save and load)", lambda: client.execute_command("DEBUG", "RELOAD")),
        ("restart replaying the AOF's commands", lambda: service.restart(directory)),
        ("restart from a rewrite with its RDB preamble", lambda: (wait_rewrite(client), service.restart(directory))),
        ("restart from a rewrite as RBM.ORBYTES commands",
         lambda: (client.config_set("aof-use-rdb-preamble", "no"), wait_rewrite(client), service.restart(directory))),
    ]
    for what, step in steps:
        step()
        assert sorted(key.decode() for key in client.keys()) == sorted([*sets, "tail"]), what
        for name, numbers in sets.items():
            assert members(client, name) == numbers, (what, name)
        assert tail_items(client, "tail") == tail, what
    client.execute_command("DEBUG", "RELOAD")
    assert client.execute_command("RBM.PACK", *sets) == 0  # Redis loads every set packed


def release_payload(rng: random.Random) -> str:
    """A release as the index's writes take it (sinks/facet_index.py release_payload), or '' (a tombstone)."""
    if rng.random() < 0.1:
        return ""
    year = rng.randint(1960, 2020)
    facets = {"genre": rng.sample(["Rock", "Jazz", "Pop"], rng.randint(1, 2)), "year": [str(year)],
              "decade": [str(year // 10 * 10)], "label": [f"Label {rng.randint(1, 40)}"],
              "artist": [f"Artist {rng.randint(1, 300)}"]}
    videos = [[f"v{rng.randint(0, 3000):010d}", f"title {n}"] for n in range(rng.randint(1, 5))]
    master = rng.choice([None, None, rng.randint(1, 10)])  # ~12 releases a master: owners in the tail
    return json.dumps({"f": {name: {value: value.lower() for value in values} for name, values in facets.items()},
                       "v": videos, "m": master})


def test_tail_items_merge_and_refuse_malformed_bytes(isolated_settings: Settings) -> None:
    """RBM.TAILMERGE adds owners' items (what an AOF rewrite of an ownertail value replays); bytes that are not owners,
    counts and items change nothing, and another type's key is WRONGTYPE."""
    client = redis.Redis.from_url(isolated_settings.redis_url)
    key = f"{isolated_settings.namespace}:tail"
    client.execute_command("RBM.TAILMERGE", key, tail_bytes({7: [30, 10], 9: [4]}))
    client.execute_command("RBM.TAILMERGE", key, tail_bytes({7: [20]}))
    assert tail_items(client, key) == {7: [10, 20, 30], 9: [4]}
    assert client.type(key) == b"ownertail"
    for bad in (tail_bytes({1: [2]})[:-1], tail_bytes({1: [2]})[:8], tail_bytes({1: []})):
        with pytest.raises(redis.ResponseError, match="tail items"):
            client.execute_command("RBM.TAILMERGE", key, bad)
    assert tail_items(client, key) == {7: [10, 20, 30], 9: [4]}
    client.execute_command("RBM.ADD", f"{key}:set", 1)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.execute_command("RBM.TAILMERGE", f"{key}:set", tail_bytes({1: [2]}))
    client.delete(key, f"{key}:set")


def test_index_writes_check_every_record_before_writing(isolated_settings: Settings) -> None:
    client = redis.Redis.from_url(isolated_settings.redis_url)
    ns = isolated_settings.namespace
    good = release_payload(random.Random(1)) or release_payload(random.Random(2))
    bad = {"a payload that is not JSON": (["2", "{"], "payload of 2"),
           "a master id that is not a number": (["2", '{"f": {}, "v": [], "m": "x"}'], "payload of 2"),
           "a NUL in a facet value": (["2", '{"f": {"genre": {"a\\u0000": "a"}}, "v": [], "m": null}'], "NUL"),
           "a release id that is not a number": (["two", good], "not a number"),
           "an id without a payload": (["2"], "wrong number")}
    for what, (tail, error) in bad.items():
        with pytest.raises(redis.ResponseError, match=error):
            client.execute_command("RBM.INDEXRELEASES", ns, "1", good, *tail)
        assert client.keys(f"{ns}:*") == [], what
    with pytest.raises(redis.ResponseError, match="payload of 3"):
        client.execute_command("RBM.INDEXMASTERS", ns, "3", '{"v": 5}')
    assert client.execute_command("RBM.INDEXRELEASES", ns, "1", good) == 1
    assert client.execute_command("RBM.INDEXRELEASES", ns, "1", good) == 0  # a replay changes nothing


def test_a_query_value_holding_a_nul_matches_nothing(isolated_settings: Settings) -> None:
    """The module API takes field names as C strings: a NUL in a query's value must not reach it (nor crash Redis)."""
    client = redis.Redis.from_url(isolated_settings.redis_url)
    ns = isolated_settings.namespace
    rock = json.dumps({"f": {"genre": {"Rock": "rock"}}, "v": [["aaaaaaaaaaa", "t"]], "m": None})
    assert client.execute_command("RBM.INDEXRELEASES", ns, "1", rock) == 1
    for value, counts in (("Ro\0ck", [0, 0]), ("Rock", [1, 1])):  # each its own cache key (the second argument)
        args = [ns, value.encode().hex(), "", "10", "1", "", "5", "", "64", "genre", "1", value]
        assert client.execute_command("RBM.QUERY", *args)[:2] == counts


def contents(client: redis.Redis) -> dict[bytes, object]:
    out: dict[bytes, object] = {}
    for key in client.keys():
        kind = client.type(key)
        read = {b"roaringbm": lambda k: members(client, k.decode()), b"set": client.smembers, b"hash": client.hgetall,
                b"string": client.get, b"zset": lambda k: client.zrange(k, 0, -1, withscores=True),
                b"ownertail": lambda k: tail_items(client, k.decode())}[kind]
        out[key] = (kind, read(key))
    return out


def test_index_writes_replay_from_the_aof(server: tuple[redis.Redis, Service, Path]) -> None:
    """An index write reaches the AOF as the call itself: a restart replaying the calls rebuilds the same keys."""
    client, service, directory = server
    client.flushall()
    client.config_set("aof-use-rdb-preamble", "yes")
    wait_rewrite(client)  # an empty base: the restart below replays every write as a command
    rng = random.Random(8)
    for _ in range(40):
        releases: list[object] = []
        for rid in rng.sample(range(1, 400), 30):
            releases += [rid, release_payload(rng)]
        client.execute_command("RBM.INDEXRELEASES", "ns", *releases)
        masters: list[object] = []
        for mid in rng.sample(range(1, 11), 3):
            videos = [[f"v{rng.randint(0, 3000):010d}", "t"] for _ in range(rng.randint(0, 3))]
            masters += [mid, json.dumps({"v": videos}) if videos else ""]
        client.execute_command("RBM.INDEXMASTERS", "ns", *masters)
    before = contents(client)
    assert {b"roaringbm", b"ownertail"} <= {kind for kind, _ in before.values()}
    service.restart(directory)
    assert contents(client) == before
