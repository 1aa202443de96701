"""Paired comparison of the query script against an earlier revision's, on an index left by bench/query.py --keep.

    python bench/query.py --releases 1000000 --keep          # once: the index (and its namespace) to query
    python bench/query_ab.py --base HEAD~3 --queries 1500    # base revision's script against the working tree's

Each query of the benchmark's mix runs cold (a new cache generation) on both scripts, in alternating order, and
Redis' own time per script call is summed from INFO commandstats: machine noise hits both alike, so differences of
a few percent show, which the HTTP benchmark's run-to-run spread hides. Counts must agree; samples may differ where
a script picks another matching owner. Last line `ratio: X` (working tree / base). The same script against itself:
1.000 over 1,500 queries, 1.025 over 300. Every query is cold, so a change to the counting part shows more here than
in bench/query.py, where some queries hit the cache and only draw a sample: 0.834 here was 0.91-0.94 of Redis' CPU
per query there. Both scripts get the working tree's ARGV (query_script_args), so the base must read the same
arguments: a query script that takes the narrow-query limit as ARGV[9].
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from universe import PROFILES, make_universe

from runtime.settings import DEFAULT_REDIS
from sinks.facet_index import query_script_args

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ("common", "query")  # the prelude and the query script, joined as sinks/facet_index.py joins them


def script_at(revision: str | None) -> str:
    """The query script as FacetIndex builds it, from a git revision or (None) the working tree."""
    def source(name: str) -> str:
        path = f"sinks/lua/{name}.lua"
        if revision is None:
            return (ROOT / path).read_text()
        return subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout
    return "\n".join(source(name) for name in SCRIPTS)


async def script_usec(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("usec", 0))


async def main(args: argparse.Namespace) -> None:
    redis = Redis.from_url(args.redis_url, socket_timeout=300)
    scripts = {"base": redis.register_script(script_at(args.base)), "tree": redis.register_script(script_at(None))}
    universe = make_universe(args.profile, args.releases, args.seed)
    universe.rng.seed(args.seed + 1)  # bench/query.py's mix
    spent = dict.fromkeys(scripts, 0)
    counts_differ = samples_differ = 0
    for n in range(args.queries):
        query = universe.query()
        # Both scripts draw the same sample: a seed for the queries that have none.
        argv = query_script_args(args.namespace, replace(query, seed=n if query.seed is None else query.seed))
        answers: dict[str, Any] = {}
        for name in (("base", "tree") if n % 2 == 0 else ("tree", "base")):
            await redis.incr(f"{args.namespace}:gen")  # cold: no cached result of the other script
            before = await script_usec(redis)
            answers[name] = await scripts[name](args=argv)
            spent[name] += await script_usec(redis) - before
        counts_differ += answers["base"][:2] != answers["tree"][:2]
        samples_differ += answers["base"][2] != answers["tree"][2]
    await redis.aclose()
    per_query = {name: usec / args.queries for name, usec in spent.items()}
    print(f"{args.queries} cold queries: base {args.base} {per_query['base']:.0f} us, working tree "
          f"{per_query['tree']:.0f} us of Redis time per query")
    print(f"counts differ in {counts_differ}, samples in {samples_differ}")
    print(f"ratio: {spent['tree'] / spent['base']:.3f}")
    if counts_differ:
        raise SystemExit("the scripts disagree on counts")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="HEAD", help="git revision whose query script is the base")
    parser.add_argument("--queries", type=int, default=1500)
    parser.add_argument("--releases", type=int, default=1_000_000, help="as given to bench/query.py (the mix's pools)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--namespace", default="bench-query:v0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=PROFILES, default="discogs", help="as given to bench/query.py")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
