"""Plain Redis bitmaps against the roaring-bitmap module's type (stack/redis_roaring), number set by number set.

    python bench/roaring_ab.py                                 # number spaces of 2M and 20M videos
    python bench/roaring_ab.py --spaces 2000000 --reps 50

Builds the module (cargo, cached in the stack's build folder) and starts a private redis-server with it loaded and
the stack's options (AOF with its RDB preamble) on a free port; stops and removes it at the end. For each number
space it files values of realistic sizes, each both ways: a few with 12-25% of the space (a top genre), many with
0.01-1% (styles, countries, decades), fixed-size ones of 2,000 numbers (a big label or artist, the same at every
size) and many tiny ones (1-400). Members are drawn uniformly over the space, as videos of one value are numbered
wherever they were indexed: no runs for roaring to compress. Plain bitmaps are padded to whole 16 KB blocks as the
writes of the plain-bitmap layout padded them.

Memory per key is MEMORY USAGE (SAMPLES 0), for a plain bitmap, for the plain-bitmap rule (a SET below 512 members
or 1/4096 of the space, else the bitmap) and for the module's type; the module's own estimate is checked against
Redis' used memory. Time is Redis' own time per operation from INFO commandstats (usec of the commands an operation
issues: BITOP + BITCOUNT against one RBM.AND), so client and network costs are left out. Every operation's answer is
compared between the two layouts (`exact`), and the module's sets are compared with the drawn numbers after the
build, after DEBUG RELOAD and after an AOF rewrite and a restart. Last line `time_ratio: X` = the module's time
over the plain bitmaps' for the whole operation mix at the largest space.

"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from roaring_measures import BITMAP_DENSITY, BITMAP_MIN, PAD_BYTES, dataset_bytes, usage

from dataget.stack import build_dir
from dataget.stack.private_redis import private_redis
from dataget.stack.services import Service
from runtime.settings import settings_from_env

OUT = Path(__file__).resolve().parent / "out"
BIG_SHARES = (0.25, 0.25, 0.25, 0.12)
MID_SHARES = tuple(10 ** (-4 + 2 * i / 23) for i in range(24))  # 0.01% .. 1%, log-spaced
FIXED_SIZE, FIXED_COUNT = 2000, 8
TINY_COUNT, TINY_MAX = 2000, 400  # enough keys for the memory they free to stand out of the noise
ADD_CHUNK = 5000
PROBES = 50
NEXT_OFFSETS = 10

Command = tuple[Any, ...]


@dataclass
class Value:
    name: str
    cls: str
    count: int
    digest: str = ""  # sha1 of the value as an unpadded Redis bitmap (what RBM.TOBITMAP gives)

    @property
    def plain(self) -> bool:
        """Whether it is filed as a plain bitmap too: tiny values would be 2.5 MB bitmaps of one or two bits."""
        return self.cls != "tiny"


@dataclass
class Layouts:
    """One space's values; keys p:{name} (plain bitmap), s:{name} (a SET, where the plain-bitmap rule keeps one),
    r:{name} (the module's type)."""
    space: int
    values: dict[str, list[Value]] = field(default_factory=dict)

    def plain_rule_uses_set(self, value: Value) -> bool:
        return value.count < BITMAP_MIN or value.count * BITMAP_DENSITY < self.space


def draw(space: int) -> Layouts:
    """The values' sizes at a space (their members are drawn as they are filed)."""
    layouts = Layouts(space)
    sizes = {
        "big": [round(space * share) for share in BIG_SHARES],
        "mid": [max(1, round(space * share)) for share in MID_SHARES],
        "fixed": [FIXED_SIZE] * FIXED_COUNT,
        # Zipf-like: a few hundred numbers for the first, one or two for most.
        "tiny": [max(1, round(TINY_MAX / (rank + 1) ** 1.1)) for rank in range(TINY_COUNT)],
    }
    for cls, counts in sizes.items():
        layouts.values[cls] = [Value(f"{cls}:{i}", cls, k) for i, k in enumerate(counts)]
    return layouts


def plain_bitmap(members: Sequence[int], length: int) -> bytearray:
    bits = bytearray(length)
    for n in members:
        bits[n >> 3] |= 0x80 >> (n & 7)
    return bits


def build(client: redis.Redis, layouts: Layouts, rng: random.Random) -> None:
    """Draws every value's members and files them each way."""
    padded = -(-layouts.space // 8 // PAD_BYTES) * PAD_BYTES
    for values in layouts.values.values():
        for value in values:
            # Drawn here and dropped after: all values' numbers as Python ints would take GBs at 20M.
            members = sorted(rng.sample(range(layouts.space), value.count))
            bits = plain_bitmap(members, padded)
            value.digest = hashlib.sha1(bytes(bits).rstrip(b"\0")).hexdigest()
            if value.plain:
                client.set(f"p:{value.name}", bytes(bits))
            for start in range(0, len(members), ADD_CHUNK):
                chunk = members[start:start + ADD_CHUNK]
                if layouts.plain_rule_uses_set(value):
                    client.sadd(f"s:{value.name}", *chunk)
                client.execute_command("RBM.ADD", f"r:{value.name}", *chunk)


def freed_by_delete(client: redis.Redis, keys: list[str]) -> int:
    """Memory given back by deleting the keys: what they really take, allocator rounding included."""
    # Small commands first: after big ones Redis resizes the buffers it kept for them (tens of KB either way).
    for _ in range(3):
        client.delete("roaring-ab:none")
        dataset_bytes(client)
    before = dataset_bytes(client)
    for start in range(0, len(keys), 100):
        client.delete(*keys[start:start + 100])
    return before - dataset_bytes(client)


@dataclass(frozen=True)
class MemoryRow:
    """Mean bytes per key of one class of values: MEMORY USAGE, and memory freed by deleting the module's keys."""
    cls: str
    keys: int
    members: float
    plain: float | None  # tiny values are not filed as plain bitmaps
    bitmap_rule: float  # a SET or the plain bitmap, by the plain-bitmap rule
    roaring: float  # the module's MEMORY USAGE as filed by RBM.ADD (arrays grown by doubling)
    mixed: float  # a SET below 512 numbers, else the module's type as filed (the index's layout)
    reloaded: float = 0.0  # the module's MEMORY USAGE after a restart (arrays sized exactly)
    freed: float = 0.0  # memory freed by deleting those: allocator rounding included


def memory_rows(client: redis.Redis, layouts: Layouts) -> list[MemoryRow]:
    rows = []
    for cls, values in layouts.values.items():
        n = len(values)
        plain = [usage(client, f"p:{v.name}") for v in values if v.plain]
        bitmap_rule = [usage(client, f"s:{v.name}" if layouts.plain_rule_uses_set(v) else f"p:{v.name}")
                       for v in values]
        roaring = [usage(client, f"r:{v.name}") for v in values]
        mixed = [usage(client, f"s:{v.name}") if v.count < BITMAP_MIN else r for v, r in zip(values, roaring,
                                                                                              strict=True)]
        rows.append(MemoryRow(cls, n, sum(v.count for v in values) / n, sum(plain) / n if plain else None,
                              sum(bitmap_rule) / n, sum(roaring) / n, sum(mixed) / n))
    return rows


def reloaded_memory(client: redis.Redis, layouts: Layouts, row: MemoryRow) -> MemoryRow:
    """The row with the module's keys measured again after a restart, then deleted to see what they really took."""
    keys = [f"r:{v.name}" for v in layouts.values[row.cls]]
    reported = sum(usage(client, key) for key in keys)
    return dataclasses.replace(row, reloaded=reported / len(keys), freed=freed_by_delete(client, keys) / len(keys))


@dataclass(frozen=True)
class Operation:
    name: str
    what: str
    # repetition -> (plain commands, roaring commands); the answers are read off each side's replies
    commands: Callable[[int], tuple[list[Command], list[Command]]]
    plain_answer: Callable[[list[Any]], Any]
    roaring_answer: Callable[[list[Any]], Any]


def operations(layouts: Layouts, rng: random.Random) -> list[Operation]:
    big = [v.name for v in layouts.values["big"]]
    mids = [v.name for v in layouts.values["mid"] if v.count >= layouts.space // 1000]  # 0.1-1%
    fixed = [v.name for v in layouts.values["fixed"]]
    space = layouts.space

    def and_pair(pool: list[str]) -> Callable[[int], tuple[list[Command], list[Command]]]:
        def commands(rep: int) -> tuple[list[Command], list[Command]]:
            a, b = big[rep % len(big)], pool[rep % len(pool)]
            return ([("BITOP", "AND", "p:tmp", f"p:{a}", f"p:{b}"), ("BITCOUNT", "p:tmp")],
                    [("RBM.AND", "r:tmp", f"r:{a}", f"r:{b}")])
        return commands

    def or4(rep: int) -> tuple[list[Command], list[Command]]:
        keys = [mids[(rep + i) % len(mids)] for i in range(4)]
        return ([("BITOP", "OR", "p:tmp", *(f"p:{k}" for k in keys)), ("BITCOUNT", "p:tmp")],
                [("RBM.OR", "r:tmp", *(f"r:{k}" for k in keys))])

    def card(rep: int) -> tuple[list[Command], list[Command]]:
        key = big[rep % len(big)]
        return [("BITCOUNT", f"p:{key}")], [("RBM.CARD", f"r:{key}")]

    def membership(rep: int) -> tuple[list[Command], list[Command]]:
        key, probes = mids[rep % len(mids)], [rng.randrange(space) for _ in range(PROBES)]
        gets = [part for n in probes for part in ("GET", "u1", n)]
        return [("BITFIELD_RO", f"p:{key}", *gets)], [("RBM.MISMEMBER", f"r:{key}", *probes)]

    def walk(rep: int) -> tuple[list[Command], list[Command]]:
        key, offsets = mids[rep % len(mids)], [rng.randrange(space) for _ in range(NEXT_OFFSETS)]
        return ([("BITPOS", f"p:{key}", 1, off, -1, "BIT") for off in offsets],
                [("RBM.NEXT", f"r:{key}", off) for off in offsets])

    return [
        Operation("and_big_mid", "AND of a 12-25% value and a 0.1-1% one, and its count", and_pair(mids),
                  lambda r: r[-1], lambda r: r[0]),
        Operation("and_big_fixed", "AND of a 12-25% value and a 2,000-number one, and its count", and_pair(fixed),
                  lambda r: r[-1], lambda r: r[0]),
        Operation("or4_mid", "OR of four 0.1-1% values, and its count", or4, lambda r: r[-1], lambda r: r[0]),
        Operation("card_big", "count of a 12-25% value", card, lambda r: r[0], lambda r: r[0]),
        Operation("member50", f"membership of {PROBES} random numbers in a 0.1-1% value", membership,
                  lambda r: r[0], lambda r: r[0]),
        Operation("next10", f"first member at or after {NEXT_OFFSETS} random offsets (sampling)", walk,
                  lambda r: r, lambda r: r),
    ]


def server_usec(client: redis.Redis, batches: list[list[Command]]) -> tuple[float, list[list[Any]]]:
    """Redis' own time for the batches' commands (INFO commandstats), and each batch's replies."""
    client.config_resetstat()
    replies = []
    for batch in batches:
        pipe = client.pipeline(transaction=False)
        for command in batch:
            pipe.execute_command(*command)
        replies.append(pipe.execute())
    names = {f"cmdstat_{str(command[0]).lower()}" for batch in batches for command in batch}
    stats = client.info("commandstats")
    return sum(float(stats[name]["usec"]) for name in names if name in stats), replies


@dataclass(frozen=True)
class TimeRow:
    op: Operation
    plain_usec: float  # Redis' time per operation
    roaring_usec: float
    exact: bool


def time_rows(client: redis.Redis, layouts: Layouts, reps: int, seed: int) -> list[TimeRow]:
    rows = []
    for op in operations(layouts, random.Random(seed)):
        pairs = [op.commands(rep) for rep in range(reps)]
        plain_usec, plain_replies = server_usec(client, [p for p, _ in pairs])
        roaring_usec, roaring_replies = server_usec(client, [r for _, r in pairs])
        exact = all(op.plain_answer(p) == op.roaring_answer(r)
                    for p, r in zip(plain_replies, roaring_replies, strict=True))
        rows.append(TimeRow(op, plain_usec / reps, roaring_usec / reps, exact))
    client.delete("p:tmp", "r:tmp")
    return rows


def contents_match(client: redis.Redis, layouts: Layouts) -> bool:
    for values in layouts.values.values():
        for value in values:
            got = client.execute_command("RBM.TOBITMAP", f"r:{value.name}")
            if hashlib.sha1(got).hexdigest() != value.digest:
                return False
    return True


def wait_rewrite(client: redis.Redis) -> None:
    client.bgrewriteaof()
    while any(int(client.info("persistence")[k]) for k in ("aof_rewrite_in_progress", "aof_rewrite_scheduled")):
        time.sleep(0.5)


def restarts(client: redis.Redis, service: Service, directory: Path, layouts: Layouts) -> list[tuple[str, float, bool]]:
    """(step, seconds, contents identical) for DEBUG RELOAD and for an AOF rewrite followed by a restart."""
    out = [("after the build", 0.0, contents_match(client, layouts))]
    start = time.monotonic()
    client.execute_command("DEBUG", "RELOAD")
    out.append(("DEBUG RELOAD", time.monotonic() - start, contents_match(client, layouts)))
    wait_rewrite(client)
    start = time.monotonic()
    service.restart(directory)
    out.append(("AOF rewrite (RDB preamble), restart", time.monotonic() - start, contents_match(client, layouts)))
    return out


def report(space: int, memory: list[MemoryRow], times: list[TimeRow], persisted: list[tuple[str, float, bool]]) -> None:
    print(f"\n## {space:,} numbers\n")
    print("Bytes per key. SET or bitmap: SET below 512 numbers or 1/4096 of the space, else plain bitmap; "
          "mixed (the index's layout): SET below 512, else roaring; roaring after a restart: MEMORY USAGE / "
          "memory freed by DEL.\n")
    print("| values | numbers per key | plain bitmap | SET or bitmap | roaring as filed | roaring after a restart "
          "| mixed | roaring / SET or bitmap | mixed / SET or bitmap |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in memory:
        plain = "-" if row.plain is None else f"{row.plain:,.0f}"
        print(f"| {row.cls} | {row.members:,.0f} | {plain} | {row.bitmap_rule:,.0f} | {row.roaring:,.0f} | "
              f"{row.reloaded:,.0f} / {row.freed:,.0f} | {row.mixed:,.0f} | {row.roaring / row.bitmap_rule:.3f} | "
              f"{row.mixed / row.bitmap_rule:.3f} |")
    total = {name: sum(getattr(row, name) * row.keys for row in memory) for name in ("bitmap_rule", "roaring", "mixed")}
    print(f"\nall {sum(row.keys for row in memory)} values: SET or bitmap {total['bitmap_rule'] / 1e6:.2f} MB, roaring "
          f"{total['roaring'] / 1e6:.2f} MB ({total['roaring'] / total['bitmap_rule']:.3f}), "
          f"mixed {total['mixed'] / 1e6:.2f} MB ({total['mixed'] / total['bitmap_rule']:.3f})")
    print("\n| operation | plain µs | roaring µs | roaring / plain | exact |")
    print("|---|---|---|---|---|")
    for timed in times:
        print(f"| {timed.op.name}: {timed.op.what} | {timed.plain_usec:,.1f} | {timed.roaring_usec:,.1f} | "
              f"{timed.roaring_usec / timed.plain_usec:.3f} | {timed.exact} |")
    for step, seconds, same in persisted:
        print(f"contents {step}: {'identical' if same else 'DIFFERENT'} ({seconds:.1f} s)")


def scaling(results: dict[int, list[TimeRow]]) -> None:
    low, high = min(results), max(results)
    print(f"\n## From {low:,} to {high:,} numbers ({high / low:.0f}x)\n")
    print("| operation | plain growth | roaring growth |")
    print("|---|---|---|")
    for small, large in zip(results[low], results[high], strict=True):
        print(f"| {small.op.name} | {large.plain_usec / small.plain_usec:.2f}x | "
              f"{large.roaring_usec / small.roaring_usec:.2f}x |")


def main(args: argparse.Namespace) -> None:
    OUT.mkdir(exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix="roaring-ab-", dir=OUT))
    results: dict[int, list[TimeRow]] = {}
    try:
        with private_redis(directory, build_dir(settings_from_env()), debug_command=True) as (url, service):
            client = redis.Redis.from_url(url, socket_timeout=600)
            print(f"redis-server {client.info('server')['redis_version']} with the module at {url}", flush=True)
            for space in args.spaces:
                client.flushall()
                layouts = draw(space)
                start = time.monotonic()
                build(client, layouts, random.Random(args.seed))
                print(f"{space:,}: filed {sum(len(v) for v in layouts.values.values())} values each way in "
                      f"{time.monotonic() - start:.0f} s", flush=True)
                memory = memory_rows(client, layouts)
                times = time_rows(client, layouts, args.reps, args.seed)
                persisted = restarts(client, service, directory, layouts)
                memory = [reloaded_memory(client, layouts, row) for row in memory]
                results[space] = times
                report(space, memory, times, persisted)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if len(results) > 1:
        scaling(results)
    if results:
        largest = results[max(results)]
        print(f"\ntime_ratio: {sum(r.roaring_usec for r in largest) / sum(r.plain_usec for r in largest):.3f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spaces", type=lambda s: [int(x) for x in s.split(",") if x],
                        default=[2_000_000, 20_000_000], help="number spaces (videos) to compare at, comma-separated")
    parser.add_argument("--reps", type=int, default=200, help="repetitions of each operation")
    parser.add_argument("--seed", type=int, default=14)
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
