"""Scaling benchmark: the facet index of the `discogs` profile's catalogue at growing sizes, one row per size.

    python bench/scale.py --sizes 200000,500000       # a quick check
    python bench/scale.py --sizes 1000000,4000000     # within ~100 minutes on 2 cores
    python bench/scale.py                             # 1M, 2M, 4M, 8M: about three hours, if memory allows

Each size is a fresh index built through FacetIndex.apply_releases / apply_masters (bench/query.py's build) from the
catalogue dataget/synth/shape.py generates (bench/README.md, "Synthetic catalogue"). A row gives Redis memory per
indexed release (a release is indexed when it lists videos, about half), the build rate in catalogue releases per
second, Redis CPU per cold query (one client, each query on a new cache generation; the median of --rounds rounds of
the mix) and HTTP p50/p95/p99 with 20 clients through a site started for the run (bench/query.py's load). The query
mix is the same at every size: drawn once with a fixed seed, its values from the smallest size's catalogue (labels
and artists among the most popular there), which every bigger size holds too. So its queries match more releases as
the catalogue grows; a row also says how many videos a query matches on average.

Exactness: the first --brute queries of the mix are counted the slow way over the generated records while the index
is built, and compared with the index's counts at every size.

Redis: by default two private redis-servers with the stack's own options (dataget/stack/services.py) in temporary
directories, so their CPU and memory are the benchmark's alone; they are stopped and removed at the end. The base
size's index (1M, else the smallest) is built in one and kept there; each bigger size is built in the other, measured,
and dropped. --redis-url uses a running server instead (a namespace of its own, dropped after each size; its CPU
figures then include other clients'). Before each size the memory it needs (projected from the last row) is checked
against free RAM and Redis' maxmemory; a size that would not fit is skipped with a line saying so.

Restart: a private server is timed twice. Right after the build (the cold rounds only), with its number sets packed
as the index workers pack them once a bulk build is done (docs/operations.md, "Packed sets"); then Redis rewrites its
AOF and is restarted, loading the index back (packed too), and the rest of the row is measured there. With
--redis-url nothing is restarted and the row has no "right after the build" figure.

Growth: the rows' ratio, Redis CPU per cold query at the largest size over the base's, each the median of its own
rounds. Each bigger size's cold rounds also alternate with rounds on the base index (--rounds pairs, one round on
each server a second apart, the first side switching every pair), which cancels the machine's drift (rounds minutes
apart differ by up to ±15% on a shared machine) but not the caches: a base round that follows a bigger index's round
meets caches full of that index's sets and can cost more than the base's own back-to-back rounds (up to 30% in runs
here), which pulls the pairs' median below the rows' ratio. The base's server holds its index alone, as it did for
its row.

Last lines: `growth: X` (Redis CPU per cold query at the largest size / at 1M, the rows' ratio; the paired rounds'
median and the ratio right after the builds follow in brackets), `full_index_gb: X` (Redis memory of the full
19.4M-release catalogue, measured or projected linearly from the rows), `p95_ms_full: X` (HTTP p95 at the largest
size measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from brute_counts import Brute
from query import over_http, percentile, redis_cpu_s, served_site
from redis.asyncio import Redis
from universe import DiscogsUniverse, build

from dataget.stack import build_dir
from dataget.stack.private_redis import private_redis
from dataget.synth import profile as P
from runtime.settings import settings_from_env
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex

OUT = Path(__file__).with_name("out")
GIB = 2**30
# Before any row is measured: Redis bytes per catalogue release to expect (measured ~2.2k), with room to spare.
FIRST_BYTES_PER_RELEASE = 3000
# Headroom over the projected memory: an AOF rewrite's copy-on-write pages and the allocator's slack.
MEMORY_HEADROOM = 1.25
# RAM left to the rest of the machine (Kafka, FerretDB, the site, the other benchmarks and tests).
RESERVED_RAM = 3 * GIB
# How long to wait for an AOF rewrite started by the build to end before timing queries.
REWRITE_WAIT_S = 600


@dataclass
class Row:
    size: int
    indexed: int
    videos: int
    build_rate: float  # catalogue releases per second
    memory: int  # bytes of Redis memory the index added
    cpu_ms: float  # Redis CPU per cold query
    built_ms: float | None  # the same right after the build, before the restart (None: not restarted)
    matched: float  # videos a cold query matches, on average
    p50: float
    p95: float
    p99: float
    exact: str
    paired: float | None  # Redis CPU per cold query against the base size's, from paired rounds (None: the base)

    def line(self) -> str:
        paired = "base" if self.paired is None else f"{self.paired:.2f}x"
        built = "-" if self.built_ms is None else f"{self.built_ms:.2f} ms"
        return (f"| {self.size:,} | {self.indexed:,} | {self.videos:,} | {self.build_rate:,.0f} | "
                f"{self.memory / max(1, self.indexed):,.0f} B ({self.memory / 1e9:.2f} GB) | {self.cpu_ms:.2f} ms | "
                f"{built} | {paired} | {self.matched:,.0f} | {self.p50:.1f} / {self.p95:.1f} / {self.p99:.1f} ms | "
                f"{self.exact} |")


HEADER = ("| releases | indexed | videos | build rel/s | Redis memory per indexed release | Redis CPU per cold query "
          "| the same right after the build | paired against the base | videos matched per query "
          "| HTTP p50 / p95 / p99 (20 clients) | exact |\n" + "|---" * 11 + "|")


@dataclass
class Server:
    """A Redis the benchmark builds indexes in: its client, its URL for the site, and how to restart it on its data
    (None: a running server, not restarted)."""
    redis: Redis
    url: str
    restart: Callable[[], None] | None = None


@dataclass
class Base:
    """The base size's index, kept in a server of its own while the bigger sizes are measured against it."""
    server: Server
    index: FacetIndex


@contextlib.contextmanager
def scratch_redis() -> Iterator[tuple[str, Callable[[], None]]]:
    """The stack's Redis (with its module) started in a temporary directory: its URL, and a call that restarts it on
    its data (returning once it has loaded it). Stopped and removed after."""
    OUT.mkdir(exist_ok=True)
    stack_dir = Path(tempfile.mkdtemp(prefix="scale-redis-", dir=OUT))
    try:
        with private_redis(stack_dir, build_dir(settings_from_env())) as (url, service):
            print(f"private Redis at {url} (data in {stack_dir})", flush=True)
            yield url, lambda: service.restart(stack_dir)
    finally:
        shutil.rmtree(stack_dir, ignore_errors=True)


async def room_for(redis: Redis, size: int, bytes_per_release: float) -> str | None:
    """Why an index of `size` releases would not fit now, or None."""
    need = size * bytes_per_release * MEMORY_HEADROOM
    free = psutil.virtual_memory().available - RESERVED_RAM
    if need > free:
        return f"needs ~{need / GIB:.1f} GiB, {free / GIB:.1f} GiB of RAM free (keeping {RESERVED_RAM / GIB:.0f})"
    info = await redis.info("memory")
    maxmemory = int(info.get("maxmemory", 0))
    if maxmemory and need > maxmemory - int(info["used_memory"]):
        return f"needs ~{need / GIB:.1f} GiB, Redis maxmemory leaves {(maxmemory - info['used_memory']) / GIB:.1f}"
    return None


async def rewrite_done(redis: Redis) -> None:
    """Wait for an AOF rewrite to end: its process would share the cores with the queries timed next."""
    deadline = time.monotonic() + REWRITE_WAIT_S
    said = False
    while time.monotonic() < deadline:
        persistence = await redis.info("persistence")
        busy = ("aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress")
        if not any(int(persistence.get(key, 0)) for key in busy):
            return
        if not said:
            print("waiting for Redis' AOF rewrite to end", flush=True)
            said = True
        await asyncio.sleep(2)


async def restarted(redis: Redis, restart: Callable[[], None]) -> None:
    """Redis restarted once its AOF is rewritten, so that it loads the index back from one RDB image rather than
    replaying the build's commands (which would scatter it again)."""
    await redis.bgrewriteaof()
    await rewrite_done(redis)
    started = time.monotonic()
    await asyncio.to_thread(restart)
    await redis.connection_pool.disconnect()
    print(f"restarted Redis on its rewritten AOF: loaded in {time.monotonic() - started:.0f} s", flush=True)


async def cold_round(redis: Redis, index: FacetIndex, namespace: str, cold: list[FacetQuery]) -> tuple[float, int]:
    """One round of the cold queries: Redis CPU per query (ms) and the videos they matched."""
    cpu_before = await redis_cpu_s(redis)
    matched = 0
    for q in cold:
        await redis.incr(f"{namespace}:gen")  # cold: nothing cached from an earlier query
        matched += (await index.query(q)).videos
    return (await redis_cpu_s(redis) - cpu_before) / len(cold) * 1000, matched


async def cold_rounds(redis: Redis, index: FacetIndex, namespace: str, cold: list[FacetQuery],
                      rounds: int) -> list[tuple[float, int]]:
    return [await cold_round(redis, index, namespace, cold) for _ in range(rounds)]


async def paired_growth(base: Base, redis: Redis, index: FacetIndex, namespace: str, cold: list[FacetQuery],
                        pairs: int) -> float:
    """The median over pairs of rounds, one on each server, of this index's CPU per cold query / the base's."""
    ratios = []
    for pair in range(pairs):
        order = [False, True] if pair % 2 == 0 else [True, False]
        ms = {}
        for on_base in order:
            side_redis, side_index = (base.server.redis, base.index) if on_base else (redis, index)
            ms[on_base] = (await cold_round(side_redis, side_index, namespace, cold))[0]
        ratios.append(ms[False] / ms[True])
        print(f"  pair {pair + 1}: {ms[False]:.2f} / {ms[True]:.2f} ms = {ratios[-1]:.2f}", flush=True)
    return statistics.median(ratios)


async def measure(args: argparse.Namespace, server: Server, size: int, cold: list[FacetQuery],
                  http: list[FacetQuery], base: Base | None) -> tuple[Row, FacetIndex]:
    """The size's row (paired against the base when there is one) and its index, left in place."""
    redis, namespace = server.redis, args.namespace
    index = FacetIndex(redis, namespace)
    await index.drop()
    universe = DiscogsUniverse(size, args.seed)
    brute = Brute(cold[:args.brute])
    before = int((await redis.info("memory"))["used_memory"])
    elapsed = await build(redis, index, universe, size, brute.observe)
    stats = await index.stats()
    memory = int((await redis.info("memory"))["used_memory"]) - before
    print(f"built {size:,} releases ({stats['releases']:,} indexed, {stats['videos']:,} videos) in {elapsed:.0f} s",
          flush=True)
    await rewrite_done(redis)

    wrong = await brute.inexact(redis, index, namespace, universe)
    for line in wrong:
        print(f"  INEXACT {line}")
    exact = f"{len(brute.queries) - len(wrong)}/{len(brute.queries)}"
    print(f"exact: {exact} against brute-force counts", flush=True)

    built_ms = None
    if server.restart is not None:
        built_ms = statistics.median(ms for ms, _ in await cold_rounds(redis, index, namespace, cold, args.rounds))
        print(f"Redis CPU per cold query right after the build: {built_ms:.2f} ms", flush=True)
        await restarted(redis, server.restart)

    rounds = await cold_rounds(redis, index, namespace, cold, args.rounds)
    cpu_ms = statistics.median(ms for ms, _ in rounds)
    print(f"Redis CPU per cold query: {cpu_ms:.2f} ms, the median of {len(rounds)} rounds of {len(cold)} queries "
          f"({', '.join(f'{ms:.2f}' for ms, _ in rounds)})", flush=True)
    paired = None
    if base is not None:
        paired = await paired_growth(base, redis, index, namespace, cold, args.rounds)
        print(f"against the base index: {paired:.2f}x, the median of {args.rounds} pairs of rounds", flush=True)

    await redis.incr(f"{namespace}:gen")
    print(f"HTTP: {len(http):,} requests, {args.clients} clients", flush=True)
    async with served_site(redis, server.url, namespace, args.web_processes, []) as (url, _):
        latencies = await over_http(url, http, args.clients)
    row = Row(size, stats["releases"], stats["videos"], size / elapsed, memory, cpu_ms, built_ms,
              rounds[0][1] / len(cold), percentile(latencies, 50), percentile(latencies, 95),
              percentile(latencies, 99), exact, paired)
    return row, index


def projected_gb(rows: list[Row]) -> str:
    """Redis memory of the full catalogue: measured, or a least-squares line through the rows' (size, memory)."""
    full = [row for row in rows if row.size >= P.FULL_RELEASES]
    if full:
        return f"{full[0].memory / 1e9:.1f} (measured at {full[0].size:,} releases)"
    if len(rows) == 1:
        slope, intercept = rows[0].memory / rows[0].size, 0.0
    else:
        n = len(rows)
        mean_x = sum(r.size for r in rows) / n
        mean_y = sum(r.memory for r in rows) / n
        slope = (sum((r.size - mean_x) * (r.memory - mean_y) for r in rows)
                 / sum((r.size - mean_x) ** 2 for r in rows))
        intercept = mean_y - slope * mean_x
    return f"{(intercept + slope * P.FULL_RELEASES) / 1e9:.1f} (projected from {len(rows)} rows)"


async def run(args: argparse.Namespace, targets: list[tuple[str, Callable[[], None] | None]]) -> None:
    """The rows over the Redis servers given as (URL, restart or None): the first builds every size, a second keeps
    the base's index."""
    sizes = sorted(args.sizes)
    # The base is measured first: the rows after it are paired against it.
    base_size = 1_000_000 if 1_000_000 in sizes else sizes[0]
    sizes = [base_size] + [size for size in sizes if size != base_size]
    mix = DiscogsUniverse(sizes[0], args.seed)
    mix.rng.seed(args.seed + 1)
    cold = [mix.query() for _ in range(args.queries)]
    http = [mix.query() for _ in range(args.requests)]
    servers = [Server(Redis.from_url(url, max_connections=args.clients + 4, socket_timeout=600), url, restart)
               for url, restart in targets]
    base_server = servers[1] if len(servers) > 1 else None
    rows: list[Row] = []
    base: Base | None = None
    try:
        # The site needs the stack's other servers (Kafka): find out now, not after the first build.
        async with served_site(servers[0].redis, servers[0].url, args.namespace, args.web_processes, []):
            pass
        for size in sizes:
            server = base_server if base is None and base_server is not None else servers[0]
            bytes_per_release = rows[-1].memory / rows[-1].size if rows else FIRST_BYTES_PER_RELEASE
            reason = await room_for(server.redis, size, bytes_per_release)
            if reason is not None:
                print(f"size {size:,}: skipped: {reason}", flush=True)
                continue
            print(f"size {size:,}: building", flush=True)
            row, index = await measure(args, server, size, cold, http, base)
            if server is base_server:
                base = Base(server, index)
            else:
                await index.drop()
            rows.append(row)
            print(HEADER.splitlines()[0])
            print(rows[-1].line(), flush=True)
    finally:
        if base is not None:
            await base.index.drop()
        for server in servers:
            await server.redis.aclose()
    if not rows:
        raise SystemExit("no size fitted")
    print()
    print(HEADER)
    for row in rows:
        print(row.line())
    base_row, largest = rows[0], max(rows, key=lambda row: row.size)
    note = "" if base_row.size == 1_000_000 else f", against {base_row.size:,}: no 1M row"
    rows_ratio = largest.cpu_ms / base_row.cpu_ms
    if largest.paired is not None:
        note += f"; paired rounds {largest.paired:.2f}"
    if largest.built_ms is not None and base_row.built_ms is not None:
        note += f"; right after the builds {largest.built_ms / base_row.built_ms:.2f}"
    print(f"growth: {rows_ratio:.2f} (the rows' ratio{note})")
    print(f"full_index_gb: {projected_gb(rows)}")
    print(f"p95_ms_full: {largest.p95:.1f} (at {largest.size:,} releases)")


async def main(args: argparse.Namespace) -> None:
    if args.redis_url:
        await run(args, [(args.redis_url, None)])
        return
    with scratch_redis() as target, scratch_redis() as base_target:
        await run(args, [target, base_target])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda text: [int(n) for n in text.split(",")],
                        default=[1_000_000, 2_000_000, 4_000_000, 8_000_000], help="catalogue sizes, comma-separated")
    parser.add_argument("--queries", type=int, default=300, help="cold queries timed with one client")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of the cold queries (their median is reported) and pairs of rounds for growth")
    parser.add_argument("--requests", type=int, default=2000, help="HTTP requests")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--brute", type=int, default=12, help="queries of the mix counted by brute force")
    parser.add_argument("--web-processes", type=int, default=1)
    parser.add_argument("--redis-url", default=None, help="a running Redis (default: a private one for the run)")
    parser.add_argument("--namespace", default="bench-scale:v0")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
