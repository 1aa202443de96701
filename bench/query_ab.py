"""Paired comparison of the roaring module's RBM.QUERY against the Lua query script of a revision that had one.

    python bench/query.py --releases 1000000 --keep          # once: the index (and its namespace) to query
    python bench/query_ab.py --queries 1500                  # RBM.QUERY against the last query script (ae98988)

Each query of the benchmark's mix runs cold (a new cache generation) both ways, in alternating order, and Redis' own
time per call is summed from INFO commandstats: machine noise hits both alike, so differences of a few percent show,
which the HTTP benchmark's run-to-run spread hides. Counts and samples must agree (both draw the same seeded sample and
name each video's first matching owner). Last line `ratio: X` (the module / the script). Every query is cold, so a
change to the counting part shows more here than in bench/query.py, where some queries hit the cache and only draw a
sample. Both get the working tree's arguments (query_command_args), so the script must read the same ones: one that
takes the narrow-query limit as ARGV[9], and checks the layout with RBM.CHECKLAYOUT (ae98988 and later).
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
from sinks.facet_index import query_command_args

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ("common", "query")  # the prelude and the query script, joined as sinks/facet_index.py joins them


def script_at(revision: str) -> str:
    """The query script of a git revision, as FacetIndex built it."""
    def source(name: str) -> str:
        return subprocess.run(["git", "show", f"{revision}:sinks/lua/{name}.lua"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    return "\n".join(source(name) for name in SCRIPTS)


async def usec(redis: Redis, command: str) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("usec", 0))


async def main(args: argparse.Namespace) -> None:
    redis = Redis.from_url(args.redis_url, socket_timeout=300)
    script = redis.register_script(script_at(args.base))
    calls: dict[str, Any] = {"script": lambda argv: script(args=argv),
                             "module": lambda argv: redis.execute_command("RBM.QUERY", *argv)}
    commands = {"script": "evalsha", "module": "rbm.query"}
    universe = make_universe(args.profile, args.releases, args.seed)
    universe.rng.seed(args.seed + 1)  # bench/query.py's mix
    spent = dict.fromkeys(calls, 0)
    counts_differ = samples_differ = 0
    for n in range(args.queries):
        query = universe.query()
        # Both draw the same sample: a seed for the queries that have none.
        argv = query_command_args(args.namespace, replace(query, seed=n if query.seed is None else query.seed))
        answers: dict[str, Any] = {}
        for name in (("script", "module") if n % 2 == 0 else ("module", "script")):
            await redis.incr(f"{args.namespace}:gen")  # cold: no cached result of the other
            before = await usec(redis, commands[name])
            answers[name] = await calls[name](argv)
            spent[name] += await usec(redis, commands[name]) - before
        counts_differ += answers["script"][:2] != answers["module"][:2]
        samples_differ += answers["script"][2] != answers["module"][2]
    await redis.aclose()
    per_query = {name: total / args.queries for name, total in spent.items()}
    print(f"{args.queries} cold queries: the script of {args.base} {per_query['script']:.0f} us, RBM.QUERY "
          f"{per_query['module']:.0f} us of Redis time per query")
    print(f"counts differ in {counts_differ}, samples in {samples_differ}")
    print(f"ratio: {spent['module'] / spent['script']:.3f}")
    if counts_differ or samples_differ:
        raise SystemExit("RBM.QUERY and the script disagree")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="ae98988", help="git revision whose query script is the base")
    parser.add_argument("--queries", type=int, default=1500)
    parser.add_argument("--releases", type=int, default=1_000_000, help="as given to bench/query.py (the mix's pools)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--namespace", default="bench-query:v0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=PROFILES, default="discogs", help="as given to bench/query.py")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
