"""Facet query benchmark: index N synthetic releases, then time a mix of 1-4-facet queries with 20 clients.

    python bench/query.py --releases 200000                       # over HTTP, against a site started for the run
    python bench/query.py --releases 200000 --direct              # FacetIndex.query in this process (Redis alone)
    python bench/query.py --releases 200000 --url http://127.0.0.1:8080 --namespace <the site's index>
    python bench/query.py --releases 200000 --replicas 1                # the site reads from Redis and a replica

The index is built from the `--profile` catalogue and the queries drawn from it as bench/universe.py says (the
`discogs` profile's shape by default, or the `classic` universe). `--reuse` keeps an index an earlier run built from
the same catalogue (profile, size, seed); its generation is bumped, so query caches start cold as after a build. The
last line printed is `p95_ms: X`. The default mode (--serve) runs `dataget web` with DATAGET_NAMESPACE set to the
namespace minus its `:v0`, the index version a site reads while no other version is active.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psutil
from process_cpu import cpu_s
from redis.asyncio import Redis
from universe import PROFILES, build, catalogue_name, make_universe, note_built, reusable

from dataget.stack import build_dir
from dataget.stack.process import free_port, stop_children
from dataget.stack.services import Service, redis_replica_service
from runtime.settings import DEFAULT_REDIS, settings_env, settings_from_env
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.index_versions import active_key, version_namespace

# How long the site started by --serve may take to answer (it connects to Kafka and Mongo first).
SERVE_START_S = 60
# The site's own output (an access log line per request) goes here rather than between the results.
SERVE_LOG = Path(__file__).with_name("out") / "query-serve.log"


def query_params(q: FacetQuery) -> list[tuple[str, str]]:
    params = [(name, value) for name, values in q.facets.items() for value in values]
    params.append(("limit", str(q.limit)))
    if q.unique:
        params.append(("unique", q.unique))
    if q.seed is not None:
        params.append(("seed", str(q.seed)))
    return params


async def drive(queries: list[FacetQuery], clients: int, run: Callable[[FacetQuery], Any]) -> list[float]:
    todo = iter(queries)
    latencies: list[float] = []

    async def client() -> None:
        for q in todo:  # the shared iterator hands each query to one client
            started = time.perf_counter()
            await run(q)
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def replica_urls(redis_url: str, replicas: int) -> list[str]:
    """Replicas listen on the ports right after the primary's, same database."""
    parts = urlsplit(redis_url)
    return [urlunsplit(parts._replace(netloc=f"{parts.hostname}:{(parts.port or 6379) + n}"))
            for n in range(1, replicas + 1)]


@contextlib.contextmanager
def running_replicas(redis_url: str, replicas: int, keep: bool) -> Iterator[list[str]]:
    """Read replicas of redis_url from the local stack's code, in sync when yielded; stopped after unless kept."""
    settings = settings_from_env()
    stack_dir = Path(settings.stack_dir).resolve()
    urls = replica_urls(redis_url, replicas)
    services: list[Service] = [redis_replica_service(url, redis_url, build_dir(settings)) for url in urls]
    started = []
    try:
        for service in services:
            print(f"replica {service.name}: syncing with {redis_url}", flush=True)
            if service.start(stack_dir):
                started.append(service)
        yield urls
    finally:
        if not keep:
            for service in started:
                service.process(stack_dir).stop()


@contextlib.asynccontextmanager
async def served_site(redis: Redis, redis_url: str, namespace: str, processes: int,
                      replicas: list[str]) -> AsyncIterator[tuple[str, psutil.Process]]:
    """Run `dataget web` reading `namespace` as its active index; yields its base URL and process once it answers."""
    base = namespace.removesuffix(":v0")
    if version_namespace(base, 0) != namespace:
        raise SystemExit(f"--serve needs a namespace ending in ':v0' (the site's default version), not {namespace!r}")
    active = await redis.get(active_key(base))
    if active is not None and active.decode() != namespace:
        raise SystemExit(f"{active_key(base)} names {active.decode()!r}: the site would not read {namespace!r}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The load comes from one address at full speed: the site's rate limits (per client and per process) would
    # answer 429 or queue it, and what is measured is the index and the site's work, not those limits.
    settings = settings_from_env().with_(redis_url=redis_url, redis_replica_urls=tuple(replicas), namespace=base,
                                         rate_limit_per_s=0, query_rate_per_process=0)
    env = {**os.environ, **settings_env(settings)}
    SERVE_LOG.parent.mkdir(exist_ok=True)
    with SERVE_LOG.open("wb") as log:
        site = subprocess.Popen([str(Path(sys.executable).with_name("dataget")), "web", "--port", str(port),
                                 "--processes", str(processes)],
                                env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + SERVE_START_S
            while True:
                if site.poll() is not None:
                    raise SystemExit(f"dataget web exited with code {site.returncode}; see {SERVE_LOG}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{url}/api/v1/facets/genre", params={"limit": "1"}) as response:
                        if response.status == 200:
                            break
                if time.monotonic() > deadline:
                    raise SystemExit(f"dataget web did not answer on {url} within {SERVE_START_S} s; see {SERVE_LOG}")
                await asyncio.sleep(0.2)
        print(f"serving {namespace} at {url} ({processes} process(es), pid {site.pid})")
        yield url, psutil.Process(site.pid)
    finally:
        stop_children([site], timeout=10)


async def over_http(url: str, queries: list[FacetQuery], clients: int) -> list[float]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        async def run(q: FacetQuery) -> Any:
            async with session.get(f"{url}/api/v1/query", params=query_params(q)) as response:
                response.raise_for_status()
                return await response.json()
        return await drive(queries, clients, run)


async def redis_cpu_s(redis: Redis) -> float:
    """CPU seconds the Redis server has used (all its threads), from INFO: works for a remote server too."""
    cpu = await redis.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def main(args: argparse.Namespace) -> None:
    # Cold heavy queries can queue for seconds behind each other; measure them rather than time out at 5 s.
    redis = Redis.from_url(args.redis_url, max_connections=args.clients + 4, socket_timeout=300)
    index = FacetIndex(redis, args.namespace)
    universe = make_universe(args.profile, args.releases, args.seed)
    stats = await index.stats()
    catalogue = catalogue_name(args.profile, args.releases, args.seed)
    if args.reuse and await reusable(redis, args.namespace, catalogue):
        print(f"reusing index {args.namespace}: {stats['releases']:,} releases")
        await redis.incr(f"{args.namespace}:gen")  # a new generation: no query is cached from an earlier run
    else:
        await index.drop()
        before = (await redis.info("memory"))["used_memory"]
        elapsed = await build(redis, index, universe, args.releases)
        await note_built(redis, args.namespace, catalogue)
        stats = await index.stats()
        used = (await redis.info("memory"))["used_memory"] - before
        print(f"built {stats['releases']:,} releases / {stats['videos']:,} videos in {elapsed:.0f} s "
              f"({stats['releases'] / elapsed:,.0f} releases/s)")
        print(f"used_memory: {used / 2**20:,.0f} MiB = {used / stats['releases']:,.0f} bytes/release")
    print(f"facet values: {stats['facet_values']}")

    universe.rng.seed(args.seed + 1)  # the same query mix whether the index was built or reused
    queries = [universe.query() for _ in range(args.requests)]
    with running_replicas(args.redis_url, args.replicas, args.keep) as replicas:
        servers = [redis, *(Redis.from_url(url) for url in replicas)]
        latencies, redis_cpu = await timed(args, index, queries, servers, replicas)
    # With clients that never pause, latency is mostly the wait for Redis: ~clients x its CPU per query.
    print(f"Redis CPU per query: {redis_cpu / len(queries) * 1000:.2f} ms"
          + (f" (primary and {len(replicas)} replicas)" if replicas else ""))
    print(f"{len(latencies)} queries, {args.clients} clients, mean {statistics.mean(latencies):.1f} ms")
    print(f"p50_ms: {percentile(latencies, 50):.1f}  p95_ms: {percentile(latencies, 95):.1f}  "
          f"p99_ms: {percentile(latencies, 99):.1f}  max_ms: {max(latencies):.1f}")
    if not args.keep:
        await index.drop()
    await redis.aclose()
    print(f"p95_ms: {percentile(latencies, 95):.1f}")


async def timed(args: argparse.Namespace, index: FacetIndex, queries: list[FacetQuery], servers: list[Redis],
                replicas: list[str]) -> tuple[list[float], float]:
    """The queries' latencies and the CPU seconds all Redis servers spent meanwhile."""
    redis_before = sum([await redis_cpu_s(server) for server in servers])
    if args.direct:
        async def run(q: FacetQuery) -> Any:
            return await index.query(q)
        latencies = await drive(queries, args.clients, run)
    elif args.url:
        latencies = await over_http(args.url, queries, args.clients)
    else:
        async with served_site(servers[0], args.redis_url, args.namespace, args.web_processes,
                               replicas) as (url, site):
            site_before, client_before = cpu_s([site]), time.process_time()
            latencies = await over_http(url, queries, args.clients)
            print(f"site CPU per query: {(cpu_s([site]) - site_before) / len(queries) * 1000:.2f} ms; "
                  f"load generator's: {(time.process_time() - client_before) / len(queries) * 1000:.2f} ms")
    redis_cpu = sum([await redis_cpu_s(server) for server in servers]) - redis_before
    for server in servers[1:]:
        await server.aclose()
    return latencies, redis_cpu


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=20)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--serve", action="store_true",
                        help="start `dataget web` for the run and query it over HTTP (the default)")
    target.add_argument("--url", help="base URL of a running site reading --namespace")
    target.add_argument("--direct", action="store_true", help="call FacetIndex.query in this process")
    parser.add_argument("--web-processes", type=int, default=1, help="--processes of the site started by --serve")
    parser.add_argument("--replicas", type=int, default=0,
                        help="read replicas of --redis-url (started, and synced, for the run) that the site shares "
                             "its queries with (--serve only)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--namespace", default="bench-query:v0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=PROFILES, default="discogs",
                        help="the catalogue indexed (and the query mix): discogs, the real shape; classic, a simpler "
                             "universe (bench/universe.py)")
    parser.add_argument("--reuse", action="store_true", help="keep an existing index of this catalogue")
    parser.add_argument("--keep", action="store_true", help="don't drop the index at the end")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
