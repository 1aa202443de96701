"""Paired comparison of two builds of the roaring module's RBM.QUERY: the working tree's against a git revision's.

    python bench/query.py --releases 1000000 --keep          # once: the index to query, in the stack's Redis
    python bench/query_ab.py --base HEAD --queries 1000      # the working tree's module against HEAD's

Both builds run in read replicas of the index's Redis started for the run (the stack's hash options, no AOF), so
they hold the same data. Each query of the benchmark's mix runs cold (a new cache generation) on both, in
alternating order, and Redis' own time per call is summed from INFO commandstats (the call's wall time), beside the
server's CPU time meanwhile (all its threads): machine noise hits both alike, so differences of a few percent show,
which the HTTP benchmark's run-to-run spread hides. Counts and samples must agree (both draw the same seeded
sample). The base's module is built once into bench/out. Last line `ratio: X` (the working tree's time / the
base's).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from query import redis_cpu_s
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError
from universe import PROFILES, make_universe

from dataget.stack import build_dir
from dataget.stack.builds import redis_roaring_module
from dataget.stack.process import free_port
from dataget.stack.services import INDEX_HASH_OPTIONS
from runtime.settings import DEFAULT_REDIS, settings_from_env
from sinks.facet_index import query_command_args

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).with_name("out")
MODULE = "stack/redis_roaring"
SYNC_TIMEOUT_S = 900


def module_at(revision: str) -> Path:
    """The module built from a git revision's source (cached in bench/out by the source's tree)."""
    tree = subprocess.run(["git", "rev-parse", f"{revision}:{MODULE}"], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    out = OUT / f"module-{tree[:12]}"
    built = out / "target" / "release" / "libredis_roaring.so"
    if not built.exists():
        archive = subprocess.run(["git", "archive", revision, MODULE], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(out, filter="data")
        subprocess.run(["cargo", "build", "--release", "--locked", "--target-dir", str(out / "target")],
                       cwd=out / MODULE, check=True)
    return built


@contextlib.contextmanager
def replica(primary_url: str, module: Path) -> Iterator[int]:
    """A writable read replica of primary_url with module loaded, in sync when its port is yielded; stopped and
    removed after."""
    primary = urlsplit(primary_url)
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="query-ab-", dir=OUT))
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data), "--save", "",
         "--appendonly", "no", "--protected-mode", "no", "--loadmodule", str(module), *INDEX_HASH_OPTIONS,
         "--replicaof", primary.hostname or "127.0.0.1", str(primary.port or 6379), "--replica-read-only", "no"],
        stdout=subprocess.DEVNULL)
    try:
        client = SyncRedis(port=port, socket_timeout=5)
        deadline = time.monotonic() + SYNC_TIMEOUT_S
        while True:
            with contextlib.suppress(RedisError):
                info = client.info("replication")
                if info.get("master_link_status") == "up" and not info.get("master_sync_in_progress"):
                    break
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the replica with {module} did not sync with {primary_url}")
            time.sleep(0.5)
        client.close()
        yield port
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


async def usec(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_rbm.query", {}).get("usec", 0))


async def compare(args: argparse.Namespace, ports: dict[str, int]) -> None:
    servers = {name: Redis(port=port, socket_timeout=300) for name, port in ports.items()}
    universe = make_universe(args.profile, args.releases, args.seed)
    universe.rng.seed(args.seed + 1)  # bench/query.py's mix
    spent = dict.fromkeys(servers, 0)
    cpu = dict.fromkeys(servers, 0.0)
    counts_differ = samples_differ = 0
    names = list(servers)
    for n in range(args.queries):
        query = universe.query()
        # Both draw the same sample: a seed for the queries that have none.
        argv = query_command_args(args.namespace, replace(query, seed=n if query.seed is None else query.seed))
        answers: dict[str, Any] = {}
        for name in (names if n % 2 == 0 else names[::-1]):
            redis = servers[name]
            await redis.incr(f"{args.namespace}:gen")  # cold
            before, cpu_before = await usec(redis), await redis_cpu_s(redis)
            answers[name] = await redis.execute_command("RBM.QUERY", *argv)
            cpu[name] += await redis_cpu_s(redis) - cpu_before
            spent[name] += await usec(redis) - before
        base, tree = (answers[name] for name in names)
        counts_differ += base[:2] != tree[:2]
        samples_differ += base[2] != tree[2]
    for redis in servers.values():
        await redis.aclose()
    per_query = {name: total / args.queries for name, total in spent.items()}
    print(f"{args.queries} cold queries: {args.base} {per_query['base']:.0f} us, the working tree "
          f"{per_query['tree']:.0f} us of Redis time per query")
    cpu_ms = {name: total / args.queries * 1000 for name, total in cpu.items()}
    print(f"Redis CPU per query (all threads, INFO included): {args.base} {cpu_ms['base']:.2f} ms, the working tree "
          f"{cpu_ms['tree']:.2f} ms; cpu_ratio: {cpu['tree'] / cpu['base']:.3f}")
    print(f"counts differ in {counts_differ}, samples in {samples_differ}")
    print(f"ratio: {spent['tree'] / spent['base']:.3f}")
    if counts_differ or samples_differ:
        raise SystemExit("the two builds disagree")


def main(args: argparse.Namespace) -> None:
    base = module_at(args.base)
    tree = redis_roaring_module(build_dir(settings_from_env()))
    with replica(args.redis_url, base) as base_port, replica(args.redis_url, tree) as tree_port:
        asyncio.run(compare(args, {"base": base_port, "tree": tree_port}))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="HEAD", help="git revision whose module is the base")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--releases", type=int, default=1_000_000, help="as given to bench/query.py (the mix's pools)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="the index's Redis (the replicas' primary)")
    parser.add_argument("--namespace", default="bench-query:v0")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=PROFILES, default="discogs", help="as given to bench/query.py")
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
