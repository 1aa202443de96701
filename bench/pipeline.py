"""End-to-end benchmark: synthetic dump -> producer -> Kafka -> faust worker -> Mongo + Redis, until queryable.

    .venv/bin/python bench/pipeline.py [--releases 200000] [--workers 1]

Prints the producer's own rate, each sink's rate measured alone on the same records (to name the limit), the CPU
each process spent per release during the run (servers found by their listening port, so only local ones), and
last `e2e_rel_s: X` = releases / seconds from the start of the ingest until the workers' lag is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
from dump_sets import dump_set_once
from process_cpu import cpu_s
from pymongo import MongoClient
from redis.asyncio import Redis

from dataget.throwaway import drop_throwaway, throwaway_settings
from producers.ingest import ingest_file
from producers.publisher import Publisher
from producers.record_hashes import RecordHashes
from producers.records import iter_records
from runtime.lag import wait_for_lag_zero
from runtime.settings import host_port, settings_env, settings_from_env
from runtime.topic_admin import ensure_topics
from schemas.topics import indexer_group_id
from sinks.facet_index import FacetIndex
from sinks.mongo_store import MongoStore

SAMPLE = 5000


def sink_rates(settings, path: Path) -> tuple[float, float]:
    """Releases/s of each sink alone, on the first SAMPLE records, in throwaway namespaces."""
    items = [(i.record_id, i.record) for i in itertools.islice(iter_records(path), SAMPLE)]
    mongo = MongoClient(settings.mongo_url)
    db_name = f"benchsink{uuid.uuid4().hex[:6]}"
    store = MongoStore(mongo[db_name])
    start = time.perf_counter()
    for i in range(0, len(items), 500):
        store.write_batch("releases", items[i:i + 500])
    mongo_rate = len(items) / (time.perf_counter() - start)
    mongo.drop_database(db_name)
    mongo.close()

    async def redis_rate() -> float:
        redis = Redis.from_url(settings.redis_url)
        index = FacetIndex(redis, f"benchsink{uuid.uuid4().hex[:6]}")
        start = time.perf_counter()
        for i in range(0, len(items), 500):
            await index.apply_releases(items[i:i + 500])
        rate = len(items) / (time.perf_counter() - start)
        await index.drop()
        await redis.aclose()
        return rate

    return mongo_rate, asyncio.run(redis_rate())


def listening_servers(settings) -> dict[str, psutil.Process]:
    """The local processes listening on the ports of Mongo, Redis and Kafka (none for a remote server)."""
    ports = {}
    for name, url, default_port in (("mongo", settings.mongo_url, 27017), ("redis", settings.redis_url, 6379),
                                    ("kafka", settings.kafka_bootstrap.split(",")[0], 9092)):
        host, port = host_port(url, default_port)
        if host in ("127.0.0.1", "localhost", "::1"):
            ports[port] = name
    found = {}
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port in ports and conn.pid:
            found[ports[conn.laddr.port]] = psutil.Process(conn.pid)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1, help="`dataget worker` processes")
    parser.add_argument("--jobs", type=int, default=2, help="producer parser processes")
    parser.add_argument("--work", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    dump_dir = dump_set_once(args.work / f"synth-{args.releases}", args.releases)
    path = next(dump_dir.glob("discogs_*_releases.xml.gz"))
    settings = throwaway_settings(settings_from_env(), args.work / "state", prefix="bp")  # fresh record hashes
    ensure_topics(settings)
    mongo_rate, redis_rate = sink_rates(settings, path)
    print(f"sinks alone ({SAMPLE} releases, batches of 500): mongo {mongo_rate:.0f} rel/s, "
          f"redis index {redis_rate:.0f} rel/s", flush=True)

    dataget = str(Path(sys.executable).with_name("dataget"))
    env = {**os.environ, **settings_env(settings)}
    log = args.work / f"{settings.namespace}-worker.log"
    with log.open("wb") as out:
        workers = [subprocess.Popen([dataget, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
                   for _ in range(args.workers)]
    try:
        time.sleep(8)  # let the group form before the clock starts
        publisher = Publisher(settings)
        hashes = RecordHashes(settings.state_dir / "hashes.sqlite")
        # The producer is this process (ingest_file and its parser processes); the bench's own work is idle then.
        worker_processes = [psutil.Process(w.pid) for w in workers]
        accounted = {**{name: [p] for name, p in listening_servers(settings).items()}, "worker": worker_processes,
                     "producer": [psutil.Process()]}
        skip = {"producer": worker_processes}
        cpu_before = {name: cpu_s(p, skip.get(name, [])) for name, p in accounted.items()}
        start = time.perf_counter()
        report = ingest_file(path, settings, publisher, hashes, jobs=args.jobs)
        produced = time.perf_counter() - start
        publisher.close()
        hashes.close()
        print(f"producer: {report.counts['records']} releases in {produced:.1f}s = "
              f"{report.counts['records'] / produced:.0f} rel/s", flush=True)
        wait_for_lag_zero(settings, indexer_group_id(settings.namespace), [settings.topics.entity("releases")])
        total = time.perf_counter() - start
        cpu = {name: cpu_s(p, skip.get(name, [])) - cpu_before[name] for name, p in accounted.items()}
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    mongo = MongoClient(settings.mongo_url)
    stored = mongo[settings.mongo_db].releases.estimated_document_count()
    mongo.close()
    drop_throwaway(settings)
    releases = report.counts["records"]
    # Together these bound the rate on this machine: its cores / (CPU seconds per release), however well overlapped.
    per_release = {name: seconds / releases * 1e6 for name, seconds in cpu.items()}
    spent, cores = sum(per_release.values()), psutil.cpu_count()
    print("CPU per release (us): " + ", ".join(f"{name} {us:.0f}" for name, us in per_release.items())
          + f"; all {spent:.0f} -> at most {cores / spent * 1e6:.0f} rel/s on {cores} cores")
    print(f"end to end: {releases} releases ({stored} in Mongo) queryable after {total:.1f}s")
    print(f"e2e_rel_s: {releases / total:.0f}")


if __name__ == "__main__":
    main()
