"""Facet counts within a selection (FacetIndex.facet_counts, what the site's pickers show) against the query itself.

    python bench/facet_counts.py --releases 200000            # builds the index (as bench/query.py does), times, drops
    python bench/facet_counts.py --releases 200000 --reuse --keep

For each selection of bench/query.py's query mix, the main query and then one facet_counts call per facet, as the
page asks after each change (its top 4 values under each picker; --limit 10 is a picker's suggestion list), one
client at a time, cold (a new generation first, so no query is cached). Prints the Redis CPU per query and per
facet_counts call by facet (the machine's other load does not count there), latencies, and `p95_ms: X` last.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import replace

from query import percentile, redis_cpu_s
from redis.asyncio import Redis
from universe import build, catalogue_name, make_universe, note_built, reusable

from runtime.settings import DEFAULT_REDIS
from schemas.query import FACETS
from sinks.facet_index import FacetIndex


async def main(args: argparse.Namespace) -> None:
    redis = Redis.from_url(args.redis_url, socket_timeout=300)
    index = FacetIndex(redis, args.namespace)
    universe = make_universe("discogs", args.releases, args.seed)
    catalogue = catalogue_name("discogs", args.releases, args.seed)
    if not (args.reuse and await reusable(redis, args.namespace, catalogue)):
        await index.drop()
        elapsed = await build(redis, index, universe, args.releases)
        await note_built(redis, args.namespace, catalogue)
        print(f"built {(await index.stats())['releases']:,} releases in {elapsed:.0f} s")
    stats = await index.stats()
    universe.rng.seed(args.seed + 1)
    selections = [universe.query() for _ in range(args.selections)]
    per_facet: dict[str, list[float]] = {f: [] for f in FACETS}
    facet_cpu = dict.fromkeys(FACETS, 0.0)
    queries: list[float] = []
    await redis.incr(f"{args.namespace}:gen")  # nothing cached from an earlier run
    query_cpu = 0.0
    for selection in selections:
        started, cpu = time.perf_counter(), await redis_cpu_s(redis)
        await index.query(replace(selection, seed=1))
        queries.append((time.perf_counter() - started) * 1000)
        query_cpu += await redis_cpu_s(redis) - cpu
        for facet in FACETS:
            started = time.perf_counter()
            cpu = await redis_cpu_s(redis)
            await index.facet_counts(facet, selection, limit=args.limit)
            per_facet[facet].append((time.perf_counter() - started) * 1000)
            facet_cpu[facet] += await redis_cpu_s(redis) - cpu
    counts = [ms for values in per_facet.values() for ms in values]
    # CPU samples include an INFO call each: a few µs.
    print(f"{len(selections)} selections of {stats['releases']:,} releases, limit {args.limit}, one client, cold")
    print(f"query:        mean {statistics.mean(queries):.2f} ms  p95 {percentile(queries, 95):.2f} ms  "
          f"Redis CPU {query_cpu / len(queries) * 1000:.2f} ms")
    for facet, values in per_facet.items():
        print(f"  {facet:<8} mean {statistics.mean(values):.2f} ms  p95 {percentile(values, 95):.2f} ms  "
              f"Redis CPU {facet_cpu[facet] / len(values) * 1000:.2f} ms")
    print(f"facet_counts: mean {statistics.mean(counts):.2f} ms  p95 {percentile(counts, 95):.2f} ms  "
          f"Redis CPU {sum(facet_cpu.values()) / len(counts) * 1000:.2f} ms per call, "
          f"{sum(facet_cpu.values()) / len(selections) * 1000:.2f} ms for the {len(FACETS)} facets")
    if not args.keep:
        await index.drop()
    await redis.aclose()
    print(f"p95_ms: {percentile(counts, 95):.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--selections", type=int, default=200)
    parser.add_argument("--limit", type=int, default=4, help="values per facet_counts call")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--namespace", default="bench-facet-counts:v0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep an index an earlier run built from this catalogue")
    parser.add_argument("--keep", action="store_true", help="don't drop the index at the end")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
