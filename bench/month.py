"""A month later, at size: the discogs profile's dump set (all four entities) through `dataget ingest` and
`dataget worker` into FerretDB and Redis, then next month's dump of it, projected to the full catalogue.

    .venv/bin/python bench/month.py [--releases 200000] [--workers 1] [--documents compressed]

(a) Revision 0, one `dataget ingest` per file (artists, labels, masters, releases), each timed from its start until
the workers' lag on its topic is 0; peak RSS of each process (ingest, its parser processes, workers, the local Kafka,
FerretDB and Redis); what the throwaway namespace holds on disk: its topics' log directories, its FerretDB
collections, its Redis keys' memory and AOF. Redis is a private one with the stack's options (as in bench/scale.py),
so its memory, CPU and AOF are this index's alone and others' restarts of the stack's Redis do not stall the run.
(b) Revision 1 with a month's churn (MONTH: 2 % changed, 0.4 % deleted, 0.5 % new) through the same state and
workers: messages per entity (changed, tombstones, new), time until Mongo and the index reflect it, and wall time per
published message. (c) Both, and the disk, projected linearly to the full catalogue (FULL). Last lines
`first_ingest_s_full`, `month_later_s_full`, `disk_gb_full`, each "(projected from N)".
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from dump_sets import dump_set_once
from peak_rss import PeakRss, children
from pipeline import listening_servers
from process_cpu import cpu_s
from pymongo import MongoClient
from stack_disk import allocated_bytes, ferretdb_bytes, kafka_topic_bytes, redis_disk_bytes, redis_namespace_bytes

from dataget.stack import build_dir
from dataget.stack.private_redis import private_redis
from dataget.stack.services import Service
from dataget.synth.dump_set import KINDS
from dataget.synth.plan import Churn
from dataget.throwaway import drop_throwaway, throwaway_settings
from runtime.lag import group_lag, wait_for_lag_zero
from runtime.settings import MONGO_DOCUMENTS, Settings, memory_bytes, physical_memory, settings_env, settings_from_env
from runtime.topic_admin import ensure_topics
from schemas.topics import indexer_group_id

# The entity counts of the 2026-09 dumps.
FULL = {"artists": 10_203_002, "labels": 2_415_476, "masters": 2_589_349, "releases": 19_417_067}
MONTH = Churn(change=0.02, remove=0.004, new=0.005)
GB = 1e9
COUNTS = re.compile(r"(\w+)=(\d+)")
INGEST_ATTEMPTS = 3
SERVERS = ("kafka", "mongo", "redis")  # as bench/pipeline.py's listening_servers names them


@dataclass
class Phase:
    """One dump set through ingest and workers: per entity the (last) ingest's counts, the messages on its topic, the
    ingest's own seconds and the seconds until the workers' lag on its topic was 0 (from the ingest's start); CPU
    seconds per role over the phase."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    ingest_s: dict[str, float] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)  # published to the entity's topic
    done_s: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)


def dump_files(work: Path, releases: int, revision: int) -> dict[str, Path]:
    """Revision 0 (20260301) or 1 (20260401, MONTH's churn) of the discogs profile, written once and reused."""
    out = dump_set_once(work / f"month-{releases}" / f"r{revision}", releases, profile="discogs", revision=revision,
                        churn=MONTH, dump_date=f"20260{3 + revision}01")
    return {kind: next(out.glob(f"discogs_*_{kind}.xml.gz")) for kind in KINDS}


def ingests_cpu_s() -> float:
    """CPU seconds of this process' waited-for children: the finished ingests and their parser processes (the
    workers are waited for only at the end)."""
    times = psutil.Process().cpu_times()
    return times.children_user + times.children_system


def run_phase(settings: Settings, files: dict[str, Path], current: list[psutil.Process | None], jobs: int,
              accounted: dict[str, list[psutil.Process]], log: Path) -> Phase:
    """Ingest each file with `dataget ingest` (as an operator would), waiting for lag 0 on its topic after each."""
    dataget = str(Path(sys.executable).with_name("dataget"))
    env = {**os.environ, **settings_env(settings)}
    group = indexer_group_id(settings.namespace)
    phase = Phase()
    cpu_before = {name: cpu_s(p) for name, p in accounted.items()}
    ingests_before = ingests_cpu_s()
    for kind, path in files.items():
        topic = settings.topics.entity(kind)
        offset = group_lag(settings, group, [topic])[0].end
        start = time.perf_counter()
        failed: list[int] = []
        # A failed ingest is run again, as an operator would: it publishes what the last one did not (the stack is
        # shared, and its servers are restarted by others' tests now and then). Its time counts; its counts are
        # not printed, so the topic's end offsets count the messages.
        while True:
            with log.open("ab") as err:
                ingest = subprocess.Popen([dataget, "ingest", "--jobs", str(jobs), str(path)], env=env,
                                          stdout=subprocess.PIPE, stderr=err)
                current[0] = psutil.Process(ingest.pid)
                out, _ = ingest.communicate()
            current[0] = None
            if ingest.returncode == 0:
                break
            failed.append(ingest.returncode)
            if len(failed) == INGEST_ATTEMPTS:
                raise SystemExit(f"dataget ingest {path.name} exited {failed}; see {log}")
        phase.ingest_s[kind] = time.perf_counter() - start
        phase.counts[kind] = {k: int(v) for k, v in COUNTS.findall(out.decode())}
        wait_for_lag_zero(settings, group, [topic])
        phase.done_s[kind] = time.perf_counter() - start
        phase.messages[kind] = group_lag(settings, group, [topic])[0].end - offset
        print(f"  {kind:8} {phase.counts[kind]['records']:>9,} records  ingest {phase.ingest_s[kind]:7.1f} s  "
              f"lag 0 after {phase.done_s[kind]:7.1f} s  ({out.decode().strip().split(': ', 2)[-1]})"
              + (f"  after failed ingests (exit {failed})" if failed else ""), flush=True)
    # A server restarted meanwhile (the stack is shared) has no CPU time of the whole phase: nan.
    phase.cpu = {"ingest": ingests_cpu_s() - ingests_before,
                 **{name: cpu_s(p) - cpu_before[name] if all(q.is_running() for q in p) else float("nan")
                    for name, p in accounted.items()}}
    return phase


def server_role(settings: Settings, name: str, process: psutil.Process | None) -> Callable[[], list[psutil.Process]]:
    """A local server's process, looked for again by its port while it is not running (restarted by someone)."""
    found = [process]

    def current() -> list[psutil.Process]:
        if found[0] is None or not found[0].is_running():
            found[0] = listening_servers(settings).get(name)
        return [p for p in found if p is not None]
    return current


def month_messages(first: Phase, month: Phase) -> dict[str, dict[str, int]]:
    """Changed, tombstones and new per entity: the survivors are revision 0's records less those deleted, what the
    month's dump holds beyond them is new, and the rest of what it published changed."""
    result = {}
    for kind, counts in month.counts.items():
        survivors = first.counts[kind]["records"] - counts["deleted"]
        new = counts["records"] - survivors
        result[kind] = {"changed": counts["published"] - new, "tombstones": counts["deleted"], "new": new}
    return result


def mongo_counts(settings: Settings) -> dict[str, int]:
    mongo: MongoClient[dict[str, object]] = MongoClient(settings.mongo_url)
    try:
        return {kind: mongo[settings.mongo_db][kind].count_documents({}) for kind in KINDS}
    finally:
        mongo.close()


def disk(settings: Settings, redis: Service, redis_dir: Path) -> dict[str, dict[str, int]]:
    """Bytes per part and entity: Kafka topic, FerretDB collection (and the database's files); Redis: the index's
    memory and its AOF, counted as the releases' (they are what it indexes); the state directory (the producer's
    record hashes of every entity, faust's data), counted as the releases' too: every entity's full count is about the
    same multiple of the discogs profile's."""
    topics = {kind: settings.topics.entity(kind) for kind in KINDS}
    collections, files = ferretdb_bytes(settings, list(KINDS))
    return {"kafka": kafka_topic_bytes(settings, topics), "ferretdb": {**collections, "files": files},
            "redis memory": {"releases": redis_namespace_bytes(settings)},
            "redis aof": {"releases": redis_disk_bytes(redis, redis_dir)},
            "state": {"releases": allocated_bytes(settings.state_dir)}}


def projected(per_kind: dict[str, float], counts: dict[str, int]) -> float:
    """Linear: each entity's measure x full count / measured count (the releases' for the facet index)."""
    return sum(value * FULL[kind] / counts[kind] for kind, value in per_kind.items() if kind in FULL)


def print_disk(sizes: dict[str, dict[str, int]], counts: dict[str, int]) -> float:
    """Prints each part measured and projected; returns the projected disk (Redis' memory is not disk)."""
    full = 0.0
    for part, per_kind in sizes.items():
        part_full = projected({k: v for k, v in per_kind.items() if k in FULL}, counts)
        full += part_full if part != "redis memory" else 0
        print(f"  {part:12} " + ", ".join(f"{k} {v / 1e6:,.1f} MB" for k, v in per_kind.items())
              + f"  -> full {part_full / GB:,.1f} GB")
    return full


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1, help="`dataget worker` processes")
    parser.add_argument("--jobs", type=int, default=2, help="parser processes per ingest")
    parser.add_argument("--documents", choices=MONGO_DOCUMENTS, default="compressed",
                        help="Mongo documents (compressed: what the full catalogue needs on FerretDB)")
    parser.add_argument("--work", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {psutil.cpu_count()} cores",
          flush=True)
    started = time.perf_counter()
    first_files, month_files = dump_files(args.work, args.releases, 0), dump_files(args.work, args.releases, 1)
    print(f"dump sets ready after {time.perf_counter() - started:.0f} s", flush=True)
    base = settings_from_env()
    redis_dir = Path(tempfile.mkdtemp(prefix="month-redis-", dir=args.work))
    try:
        with private_redis(redis_dir, build_dir(base), memory_bytes(base.redis_maxmemory, physical_memory())) as (
                redis_url, redis):
            settings = throwaway_settings(base, args.work / "state", prefix="bm").with_(
                redis_url=redis_url, mongo_documents=args.documents)
            measured = run(args, settings, first_files, month_files, redis, redis_dir)
    finally:
        shutil.rmtree(redis_dir, ignore_errors=True)
    report(args.releases, *measured)


def run(args: argparse.Namespace, settings: Settings, first_files: dict[str, Path], month_files: dict[str, Path],
        redis: Service, redis_dir: Path) -> tuple[Phase, Phase, dict[str, dict[str, int]], dict[str, dict[str, int]],
                                                  dict[str, int], dict[str, int]]:
    """Both phases with the workers running; the throwaway namespace is dropped after."""
    ensure_topics(settings)
    log = args.work / f"{settings.namespace}.log"
    env = {**os.environ, **settings_env(settings)}
    dataget = str(Path(sys.executable).with_name("dataget"))
    try:
        with log.open("ab") as out:
            workers = [subprocess.Popen([dataget, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
                       for _ in range(args.workers)]
        try:
            time.sleep(8)  # let the group form before the clock starts
            servers = listening_servers(settings)
            worker_processes = [psutil.Process(w.pid) for w in workers]
            current: list[psutil.Process | None] = [None]  # the running `dataget ingest`
            roles = {"ingest": lambda: [p] if (p := current[0]) is not None else [],
                     "parser": children(lambda: current[0]), "worker": lambda: worker_processes,
                     **{name: server_role(settings, name, servers.get(name)) for name in SERVERS}}
            accounted = {"worker": worker_processes, **{name: [p] for name, p in servers.items()}}
            with PeakRss(roles) as peaks:
                print(f"revision 0 ({settings.mongo_documents} documents):", flush=True)
                first = run_phase(settings, first_files, current, args.jobs, accounted, log)
                first_disk = disk(settings, redis, redis_dir)
                print(f"revision 1 (change {MONTH.change:.1%}, delete {MONTH.remove:.1%}, new {MONTH.new:.1%}):",
                      flush=True)
                month = run_phase(settings, month_files, current, args.jobs, accounted, log)
            month_disk = disk(settings, redis, redis_dir)
            stored = mongo_counts(settings)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=60)
    finally:
        drop_throwaway(settings)
    return first, month, first_disk, month_disk, stored, peaks.peak


def report(releases: int, first: Phase, month: Phase, first_disk: dict[str, dict[str, int]],
           month_disk: dict[str, dict[str, int]], stored: dict[str, int], peak: dict[str, int]) -> None:
    counts = {kind: c["records"] for kind, c in first.counts.items()}
    messages = month_messages(first, month)
    print("peak RSS: " + ", ".join(f"{role} {rss / 1e6:,.0f} MB" for role, rss in peak.items())
          + " (Kafka and FerretDB: shared with everyone's data; Redis: this index's alone)")
    for name, phase in (("revision 0", first), ("revision 1", month)):
        total = sum(phase.done_s.values())
        print(f"{name} CPU: " + ", ".join(f"{role} {s:,.0f} s" for role, s in phase.cpu.items())
              + f"; {total:,.0f} s wall")
    print("month's messages: " + "; ".join(
        f"{kind} {month.messages[kind]:,} ({m['changed']:,} changed, {m['tombstones']:,} tombstones, {m['new']:,} new)"
        for kind, m in messages.items()))
    expected = {kind: month.counts[kind]["records"] for kind in KINDS}
    print("Mongo after revision 1: " + ", ".join(f"{kind} {n:,}" for kind, n in stored.items())
          + ("  (= the dump's records)" if stored == expected else f"  (dump: {expected})"))
    published = sum(month.messages.values())
    month_total = sum(month.done_s.values())
    after_ingest = sum(month.done_s[k] - month.ingest_s[k] for k in KINDS)
    print(f"month later: {month_total:,.1f} s for {published:,} messages: {month_total / published * 1e3:.2f} ms "
          f"wall per message (the parse of every record included); ingests {sum(month.ingest_s.values()):,.1f} s, "
          f"then {after_ingest:,.1f} s until lag 0")
    print("disk after revision 0:")
    print_disk(first_disk, counts)
    print("disk after revision 1 (superseded versions not compacted yet):")
    disk_full = print_disk(month_disk, counts)
    first_full = projected(first.done_s, counts)
    month_full = projected(month.done_s, counts)
    print(f"projected to {', '.join(f'{n:,} {k}' for k, n in FULL.items())}: first ingest "
          + ", ".join(f"{k} {first.done_s[k] * FULL[k] / counts[k] / 3600:.1f} h" for k in KINDS)
          + "; month later " + ", ".join(f"{k} {month.done_s[k] * FULL[k] / counts[k] / 60:.0f} min" for k in KINDS))
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"first_ingest_s_full: {first_full:.0f} (projected from {releases:,})")
    print(f"month_later_s_full: {month_full:.0f} (projected from {releases:,})")
    print(f"disk_gb_full: {disk_full / GB:.1f} (projected from {releases:,})")


if __name__ == "__main__":
    main()
