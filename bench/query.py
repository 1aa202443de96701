"""Facet query benchmark: index N synthetic releases, then time a mix of 1-4-facet queries with 20 clients.

    python bench/query.py --releases 200000                       # over HTTP, against a site started for the run
    python bench/query.py --releases 200000 --direct              # FacetIndex.query in this process (Redis alone)
    python bench/query.py --releases 200000 --url http://127.0.0.1:8080 --namespace <the site's index>
    python bench/query.py --releases 200000 --replicas 1                # the site reads from Redis and a replica

The index is built straight through FacetIndex.apply_releases (no Kafka, no XML) from the `discogs` profile's
catalogue (dataget/synth/shape.py: what `dataget synth --profile discogs` writes, calibrated to the real one), or with
`--profile classic` from the earlier universe (1-4 videos per release; the numbers in bench/README.md before the
profile). Value popularity is Zipf-skewed like Discogs' (few huge genres, a long tail of labels and artists), and so
is the query mix. `--reuse` keeps an index
of the right size from an earlier run (its generation is bumped, so query caches start cold as after a build); the
last line printed is `p95_ms: X`. The default mode (--serve) runs `dataget web` with DATAGET_NAMESPACE set to the
namespace minus its `:v0`, the index version a site reads while no other version is active.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psutil
from process_cpu import cpu_s
from redis.asyncio import Redis

from dataget.stack.process import free_port
from dataget.stack.services import Service, redis_replica_service
from dataget.synth import profile as P
from dataget.synth.plan import Entity
from dataget.synth.shape import Catalogue, ReleaseFacts
from runtime.settings import DEFAULT_REDIS, settings_env, settings_from_env
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.index_versions import active_key, version_namespace

BATCH = 1000
FAMOUS, FAMOUS_SHARE = 100, 0.01
# How long the site started by --serve may take to answer (it connects to Kafka and Mongo first).
SERVE_START_S = 60
# The site's own output (an access log line per request) goes here rather than between the results.
SERVE_LOG = Path(__file__).with_name("out") / "query-serve.log"


# What a universe generates for one release: (release id, the record the index reads, the facts it was drawn from,
# None in the classic universe).
Generated = tuple[int, dict[str, Any], ReleaseFacts | None]


def zipf_picker(values: list[str], rng: random.Random, s: float = 1.1) -> Callable[[], str]:
    weights = list(itertools.accumulate(1 / (rank**s) for rank in range(1, len(values) + 1)))
    return lambda: rng.choices(values, cum_weights=weights)[0]


class Universe:
    """The classic universe: value pools and Zipf pickers shared by the record generator and the query mix."""

    def __init__(self, releases: int, rng: random.Random) -> None:
        self.rng = rng
        self.pools = {
            "genre": ["Electronic", "Rock", "Pop", "Funk / Soul", "Jazz", "Hip Hop", "Folk, World, & Country",
                      "Classical", "Reggae", "Latin", "Stage & Screen", "Blues", "Non-Music", "Children's",
                      "Brass & Military"],
            "style": [f"Style {n}" for n in range(600)],
            "country": ["US", "UK", "Germany", "France", "Japan", "Italy", "Netherlands", "Canada"]
            + [f"Country {n}" for n in range(200)],
            "label": [f"Label {n}" for n in range(max(1000, releases // 8))],
            "artist": [f"Artist {n}" for n in range(max(1000, releases // 4))],
            "format": ["Vinyl", "CD", "File", "Cassette", "CDr", "Box Set", "DVD", "Shellac", "Flexi-disc", "VHS"],
            "year": [str(y) for y in range(2024, 1929, -1)],
        }
        # Discogs-like skew: one genre has ~30% of releases, the biggest label or artist only a few percent.
        exponents = {"label": 0.8, "artist": 0.8, "style": 1.0}
        self.pick = {name: zipf_picker(pool, rng, exponents.get(name, 1.1)) for name, pool in self.pools.items()}
        self.masters = max(1, releases // 3)
        # A few albums have thousands of versions (Discogs' biggest masters ~2,000 releases), all listing the
        # same videos: FAMOUS_SHARE of the releases go to FAMOUS masters, Zipf-skewed (the first gets ~1,900
        # releases at 1 M), so the index meets items with far more owners than ranks it keeps.
        famous = list(range(1, min(FAMOUS, self.masters) + 1))
        self.pick_famous = zipf_picker(famous, rng, 1.0)

    def values(self, facet: str, low: int, high: int) -> list[str]:
        return list({self.pick[facet]() for _ in range(self.rng.randint(low, high))})

    def release(self, rid: int) -> dict[str, Any]:
        rng = self.rng
        master = None
        if rng.random() < FAMOUS_SHARE:
            master = self.pick_famous()
        elif rng.random() < 0.6:
            master = rng.randrange(1, self.masters + 1)
        # Releases of one master draw from the master's own small pool of videos, so videos are shared.
        if master:
            videos = {f"m{master:09d}{rng.randrange(6):x}" for _ in range(rng.randint(1, 4))}
        else:
            videos = {f"r{rid:09d}{n:x}" for n in range(rng.randint(1, 4))}
        year = self.pick["year"]()
        return {
            "id": rid,
            "genres": self.values("genre", 1, 2),
            "styles": self.values("style", 0, 3),
            "released": f"{year}-00-00" if rng.random() < 0.9 else None,
            "country": self.pick["country"](),
            "labels": [{"name": n} for n in self.values("label", 1, 2)],
            "artists": [{"name": n} for n in self.values("artist", 1, 1)],
            "formats": [{"name": n} for n in self.values("format", 1, 2)],
            "master_id": master,
            "videos": [{"src": f"https://www.youtube.com/watch?v={v}", "youtube_id": v, "title": f"Title {v}"}
                       for v in sorted(videos)],
        }

    def query(self) -> FacetQuery:
        return mixed_query(self.rng, lambda name: self.pick[name]())

    def records(self, start: int, stop: int) -> list[Generated]:
        return [(rid, self.release(rid), None) for rid in range(start + 1, stop + 1)]

    def master_records(self) -> list[tuple[int, dict[str, Any]]]:
        return [(m, {"id": m, "videos": [{"src": "", "youtube_id": f"m{m:09d}{n:x}", "title": "master video"}
                                          for n in range(self.rng.randint(1, 3))]})
                for m in range(1, self.masters + 1, 3)]


class DiscogsUniverse:
    """The `discogs` profile's catalogue of `releases` releases, and a query mix drawn from the same distributions."""

    def __init__(self, releases: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.catalogue = Catalogue(seed, releases)
        self.styles = self.catalogue.shape.styles

    def value(self, facet: str) -> str:
        """A value of a facet, as popular as releases make it (labels and artists among this catalogue's)."""
        rand, plan, names = self.rng.random, self.catalogue.plan, self.catalogue.names
        if facet == "genre":
            return P.GENRES.pick(rand)
        if facet == "style":
            pool = self.styles[P.GENRES.pick(rand)]
            return pool[P.zipf_rank(rand(), len(pool), P.STYLE_ZIPF)]
        if facet == "country":
            return P.COUNTRIES.pick(rand)
        if facet == "format":
            return P.FORMATS.pick(rand)
        if facet == "year":
            return str(P.year(rand(), rand()))
        if facet == "label":
            return names.label(plan.pick(Entity.LABEL, rand()))
        return names.artist(plan.pick(Entity.ARTIST, rand()))

    def query(self) -> FacetQuery:
        return mixed_query(self.rng, self.value)

    def records(self, start: int, stop: int) -> list[Generated]:
        out: list[Generated] = []
        for slot in range(start, stop):
            facts, record = self.catalogue.release(slot)
            out.append((record["id"], record, facts))
        return out

    def master_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for master in range(self.catalogue.plan.n_masters):
            record = self.catalogue.master(master)
            if record["videos"]:
                yield record["id"], record


PROFILES = ("discogs", "classic")


def make_universe(profile: str, releases: int, seed: int) -> Universe | DiscogsUniverse:
    if profile == "classic":
        return Universe(releases, random.Random(seed))
    return DiscogsUniverse(releases, seed)


def mixed_query(rng: random.Random, value: Callable[[str], str]) -> FacetQuery:
    """One query of the benchmark's mix: 1-4 facets (fewer more often), each with 1 or 2 values from `value`."""
    names = rng.sample(["genre", "style", "country", "decade", "year", "format", "label", "artist"],
                       rng.choices([1, 2, 3, 4], weights=[4, 3, 2, 1])[0])
    facets: dict[str, tuple[str, ...]] = {}
    for name in names:
        values = {value("year" if name == "decade" else name) for _ in range(rng.choices([1, 2], weights=[4, 1])[0])}
        if name == "decade":
            values = {str(int(v) // 10 * 10) for v in values}
        facets[name] = tuple(sorted(values))
    return FacetQuery(
        facets=facets,
        limit=50,
        unique="master" if rng.random() < 0.1 else None,
        seed=rng.randrange(1000) if rng.random() < 0.3 else None,
    )


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def build(index: FacetIndex, universe: Universe | DiscogsUniverse, releases: int,
                observe: Callable[[list[Generated]], None] | None = None) -> float:
    """Index the universe's first `releases` releases, then its masters' own videos; seconds taken. `observe` sees
    every batch before it is indexed."""
    started = time.perf_counter()
    for start in range(0, releases, BATCH):
        batch = universe.records(start, min(start + BATCH, releases))
        if observe is not None:
            observe(batch)
        await index.apply_releases([(rid, record) for rid, record, _ in batch])
        if (start // BATCH) % 50 == 0:
            print(f"  indexed {start + len(batch):,} releases", flush=True)
    for chunk in batches(universe.master_records(), BATCH):
        await index.apply_masters(chunk)
    return time.perf_counter() - started


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
    stack_dir = Path(settings_from_env().stack_dir).resolve()
    urls = replica_urls(redis_url, replicas)
    services: list[Service] = [redis_replica_service(url, redis_url) for url in urls]
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
        site.terminate()
        try:
            site.wait(10)
        except subprocess.TimeoutExpired:
            site.kill()
            site.wait()


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
    if args.reuse and stats["releases"] >= args.releases * 0.99:
        print(f"reusing index {args.namespace}: {stats['releases']:,} releases")
        await redis.incr(f"{args.namespace}:gen")  # a new generation: no query is cached from an earlier run
    else:
        await index.drop()
        before = (await redis.info("memory"))["used_memory"]
        elapsed = await build(index, universe, args.releases)
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
            site_before = cpu_s([site])
            latencies = await over_http(url, queries, args.clients)
            print(f"site CPU per query: {(cpu_s([site]) - site_before) / len(queries) * 1000:.2f} ms")
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
                        help="the catalogue indexed (and the query mix): discogs, the real shape; classic, the earlier "
                             "universe")
    parser.add_argument("--reuse", action="store_true", help="keep an existing index of this size")
    parser.add_argument("--keep", action="store_true", help="don't drop the index at the end")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
