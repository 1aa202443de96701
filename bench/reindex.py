"""Index build benchmark: the real `dataget reindex --in-place` replaying a synthetic catalogue's topics on the stack.

    .venv/bin/python bench/reindex.py --releases 1000000        # ~4 minutes of replay, ~7 with the dump and ingest
    .venv/bin/python bench/reindex.py --releases 2000000

Writes the discogs profile's dump set once (kept under --work), publishes its masters and releases to throwaway topics,
then times `dataget reindex --in-place` into a throwaway index namespace (dropped after, topics too). Prints the
replay's wall time and rates, each process's CPU per release (Redis, the replay workers with their `dataget reindex`,
Kafka), the replay's rate per quarter of its messages (it falls as the index grows), and last `full_build_h: X`: the
whole catalogue's messages (19.4M releases and 2.6M masters) at the rate of the replay's last quarter, a projection.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from dump_sets import dump_set_once
from pipeline import listening_servers
from process_cpu import cpu_s
from redis.asyncio import Redis

from dataget.throwaway import drop_throwaway, throwaway_settings
from producers.ingest import ingest_file
from producers.publisher import Publisher
from producers.record_hashes import RecordHashes
from runtime.lag import TopicLag, group_lag
from runtime.settings import Settings, settings_env, settings_from_env
from runtime.topic_admin import ensure_topics
from schemas.topics import ENTITIES, replay_group_id
from sinks.facet_index import FacetIndex
from sinks.index_versions import version_namespace

# The 2026-09 dumps' releases and masters: the messages a full reindex replays (artists and labels are not indexed).
FULL_MESSAGES = 19_417_067 + 2_589_349
POLL_S = 5.0


def publish(settings: Settings, dumps: Path) -> None:
    publisher = Publisher(settings)
    hashes = RecordHashes(settings.state_dir / "hashes.sqlite")
    try:
        for kind in ("masters", "releases"):
            ingest_file(next(dumps.glob(f"discogs_*_{kind}.xml.gz")), settings, publisher, hashes, jobs=2)
    finally:
        publisher.close()
        hashes.close()


def lags(settings: Settings, group: str) -> list[TopicLag]:
    return group_lag(settings, group, [settings.topics.entity(e) for e in ENTITIES])


def poll_progress(settings: Settings, group: str, done: threading.Event) -> list[tuple[float, int]]:
    """(seconds, messages committed) every POLL_S until done is set; none once the reindex deleted its group."""
    points: list[tuple[float, int]] = []
    start = time.perf_counter()
    while not done.wait(POLL_S):
        committed = sum(t.committed for t in lags(settings, group))
        if points and committed < points[-1][1]:
            break
        points.append((time.perf_counter() - start, committed))
    return points


def rate_between(points: list[tuple[float, int]], total: int, low: float, high: float) -> float | None:
    """Messages/s while the committed count went from low to high (fractions of total); None with fewer than two
    polls in that stretch (a replay of a few seconds)."""
    inside = [p for p in points if low * total <= p[1] <= high * total]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    (t0, m0), (t1, m1) = inside[0], inside[-1]
    return (m1 - m0) / (t1 - t0)


async def indexed_releases(settings: Settings, namespace: str) -> int:
    redis = Redis.from_url(settings.redis_url)
    try:
        return int((await FacetIndex(redis, namespace).stats())["releases"])
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="`dataget reindex --workers`")
    parser.add_argument("--work", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    dumps = dump_set_once(args.work / f"synth-discogs-{args.releases}", args.releases, profile="discogs")
    settings = throwaway_settings(settings_from_env(), args.work / "state", prefix="br")
    try:
        ensure_topics(settings)
        publish(settings, dumps)
        # A throwaway namespace has had no version yet: the reindex builds version 1.
        namespace = version_namespace(settings.namespace, 1)
        group = replay_group_id(settings.namespace, namespace)
        messages = sum(t.end for t in lags(settings, group))
        servers = {name: p for name, p in listening_servers(settings).items() if name in ("redis", "kafka")}
        before = {name: cpu_s([p]) for name, p in servers.items()}
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = threading.Event()
        points: list[tuple[float, int]] = []
        poller = threading.Thread(target=lambda: points.extend(poll_progress(settings, group, done)))
        poller.start()
        start = time.perf_counter()
        reindex = subprocess.run([str(Path(sys.executable).with_name("dataget")), "reindex", "--in-place",
                                  "--workers", str(args.workers)],
                                 env={**os.environ, **settings_env(settings)}, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        done.set()
        poller.join()
        if reindex.returncode != 0:
            raise SystemExit(f"dataget reindex failed ({reindex.returncode}): {reindex.stderr[-2000:]}")
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = {name: cpu_s([p]) - before[name] for name, p in servers.items()}
        # The reindex and the worker processes it waited for.
        cpu["replay workers"] = (children.ru_utime + children.ru_stime
                                 - children_before.ru_utime - children_before.ru_stime)
        indexed = asyncio.run(indexed_releases(settings, namespace))
    finally:
        drop_throwaway(settings)
    print(f"catalogue: {args.releases:,} releases ({indexed:,} indexed), {messages:,} messages with the masters")
    print(f"reindex: {seconds:.0f} s, {args.releases / seconds:,.0f} releases/s ({messages / seconds:,.0f} messages/s)")
    per_release = {name: s / args.releases * 1e6 for name, s in cpu.items()}
    spent, cores = sum(per_release.values()), psutil.cpu_count()
    print("CPU per release (us): " + ", ".join(f"{name} {us:.0f}" for name, us in per_release.items())
          + f"; all {spent:.0f} -> at most {cores / spent * 1e6:,.0f} releases/s on {cores} cores")
    quarters = [rate_between(points, messages, q / 4, (q + 1) / 4) for q in range(4)]
    print("replay by quarter of its messages (messages/s): "
          + ", ".join("-" if r is None else f"{r:,.0f}" for r in quarters))
    last = quarters[-1]
    if last is None:
        raise SystemExit(f"full_build_h: - (the replay took fewer than {2 * POLL_S:.0f} s: too small to project)")
    print(f"full_build_h: {FULL_MESSAGES / last / 3600:.2f} (projected: {FULL_MESSAGES:,} messages at the last "
          f"quarter's {last:,.0f} messages/s)")


if __name__ == "__main__":
    main()
