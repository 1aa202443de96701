"""What an update and a delete of a stored document cost as the collection grows (MongoDB / FerretDB).

    .venv/bin/python bench/mongo_updates.py [--sizes 20000,2000000] [--docs small|realistic] [--compressed]

Fills one throwaway collection through MongoStore.write_batch (as a first load does) to each size in turn, and
at each size times MongoStore.write_batch on `--ops` records spread over the collection: changed records (insert,
E11000, ReplaceOne), the same records again unchanged (a replayed batch), and tombstones (DeleteOne); the deleted
documents are put back before the next fill. Each operation gets at most `--budget` seconds, so a store that
scans its table still finishes (with fewer documents timed). Prints, per size, wall and server CPU (the local
process listening on the Mongo port, if any) per document, and the plan of a find by `_id` (FerretDB reports
SQLite's plan: SEARCH ... USING INDEX, or SCAN). `--docs small` stores ~100-byte documents (quick to fill to
millions); `realistic` cycles synthetic release records (~13 KB as FerretDB stores them, ~2.4 KB `--compressed`).
Last lines: `update_ratio: X` and `delete_ratio: X`, the cost per document at the largest size ÷ at the smallest
(1.0 = flat): of the server's CPU if it is local (wall time on a shared machine also counts waiting for a core),
else of wall time.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import psutil
from process_cpu import cpu_s
from pymongo import MongoClient
from pymongo.database import Database

from dataget.synth.dump_set import write_dump_set
from producers.records import iter_records
from runtime.settings import host_port, settings_from_env
from schemas.records import Record
from sinks.mongo_store import MongoStore

ENTITY = "releases"
FILL_BATCH = 5000
POOL_RELEASES = 5000  # realistic documents are these synthetic releases, cycled under new ids


@dataclass(frozen=True)
class Cost:
    docs: int
    wall_us: float
    cpu_us: float | None


def per_doc(cost: Cost, by_cpu: bool) -> float:
    return cost.cpu_us if by_cpu and cost.cpu_us is not None else cost.wall_us


def small_record(rid: int) -> Record:
    return cast(Record, {"id": rid, "title": f"Release {rid}", "year": 1950 + rid % 75, "genres": ["Rock"]})


def realistic_records(work: Path) -> Callable[[int], Record]:
    dump_dir = work / f"synth-{POOL_RELEASES}"
    if not (dump_dir / "discogs_20260301_releases.xml.gz").exists():
        write_dump_set(dump_dir, POOL_RELEASES)
    pool = [item.record for item in iter_records(dump_dir / "discogs_20260301_releases.xml.gz")
            if item.record is not None]

    def record(rid: int) -> Record:
        return cast(Record, {**pool[rid % len(pool)], "id": rid})

    return record


def server_process(mongo_url: str) -> psutil.Process | None:
    """The local process listening on the Mongo port (None for a remote server)."""
    _, port = host_port(mongo_url, 27017)
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    return None


def timed(write: Callable[[list[int]], None], ids: list[int], budget_s: float,
          server: psutil.Process | None) -> Cost:
    """Applies write to ids in growing slices until all are done or the budget is spent; cost per document."""
    done, size, wall, cpu = 0, 1, 0.0, 0.0
    while done < len(ids) and wall < budget_s:
        part = ids[done:done + size]
        cpu_before = cpu_s([server]) if server else 0.0
        start = time.perf_counter()
        write(part)
        spent = time.perf_counter() - start
        cpu += (cpu_s([server]) - cpu_before) if server else 0.0
        wall += spent
        done += len(part)
        # Slices as large as the rest of the budget allows (a slice is a batch of the worker, at most 500).
        size = max(1, min(500, int((budget_s - wall) / (wall / done) / 2)))
    return Cost(done, wall / done * 1e6, cpu / done * 1e6 if server else None)


def fill(store: MongoStore, record: Callable[[int], Record], ids: range) -> float:
    """Stores new records under ids; returns documents per second."""
    start = time.perf_counter()
    for first in range(ids.start, ids.stop, FILL_BATCH):
        store.write_batch(ENTITY, [(i, record(i)) for i in range(first, min(first + FILL_BATCH, ids.stop))])
    return len(ids) / (time.perf_counter() - start)


def plan_of_find(db: Database) -> str:
    explained = db.command("explain", {"find": ENTITY, "filter": {"_id": "1"}})
    if "Plan" in explained.get("queryPlanner", {}):  # FerretDB: SQLite's EXPLAIN QUERY PLAN rows
        return "; ".join(row.split("detail=", 1)[-1] for row in explained["queryPlanner"]["Plan"])
    return str(explained.get("queryPlanner", {}).get("winningPlan", {}).get("stage", "?"))


def measure(store: MongoStore, record: Callable[[int], Record], stored: int, ops: int, budget_s: float,
            server: psutil.Process | None, rng: random.Random) -> dict[str, Cost]:
    ids = rng.sample(range(1, stored + 1), min(ops, stored))

    def changed(part: list[int]) -> None:
        store.write_batch(ENTITY, [(i, cast(Record, {**record(i), "title": f"changed {uuid.uuid4().hex}"}))
                                   for i in part])

    def replayed(part: list[int]) -> None:
        store.write_batch(ENTITY, [(i, record(i)) for i in part])

    def deleted(part: list[int]) -> None:
        store.write_batch(ENTITY, [(i, None) for i in part])

    costs = {"update": timed(changed, ids, budget_s, server)}
    updated = ids[:costs["update"].docs]
    replayed(updated)  # back to the original documents, so the replay below is of unchanged ones
    costs["replay"] = timed(replayed, updated, budget_s, server)
    costs["delete"] = timed(deleted, ids, budget_s, server)
    replayed(ids[:costs["delete"].docs])  # put them back (inserts)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,2000000", help="stored documents at each measurement")
    parser.add_argument("--docs", choices=("small", "realistic"), default="small")
    parser.add_argument("--compressed", action="store_true", help="store records as one zstd field (see to_document)")
    parser.add_argument("--ops", type=int, default=1000, help="documents updated, replayed and deleted per size")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds at most per operation and size")
    parser.add_argument("--work", type=Path, default=Path("bench/out"))
    parser.add_argument("--mongo-url", help="default: DATAGET_MONGO_URL or the local stack's")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))

    mongo_url = args.mongo_url or settings_from_env().mongo_url
    record = small_record if args.docs == "small" else realistic_records(args.work)
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_url)
    db_name = f"benchupd{uuid.uuid4().hex[:8]}"
    server = server_process(mongo_url)
    rng = random.Random(1)
    results: dict[int, dict[str, Cost]] = {}
    where = f"pid {server.pid}" if server else "remote"
    print(f"{args.docs} documents{', compressed' if args.compressed else ''}, {args.ops} per operation, server {where}")
    print(f"{'stored':>10} {'fill doc/s':>10}  {'operation':<8} {'docs':>5} {'wall us/doc':>12} "
          f"{'server cpu us/doc':>18}  find by _id")
    try:
        store = MongoStore(client[db_name], compressed=args.compressed)
        stored = 0
        for size in sizes:
            rate = fill(store, record, range(stored + 1, size + 1))
            stored = size
            results[size] = measure(store, record, stored, args.ops, args.budget, server, rng)
            plan = plan_of_find(client[db_name])
            for row, (name, cost) in enumerate(results[size].items()):
                cpu = f"{cost.cpu_us:18.0f}" if cost.cpu_us is not None else f"{'-':>18}"
                fill_rate = f"{rate:>10.0f}" if row == 0 else " " * 10
                print(f"{size:>10} {fill_rate}  {name:<8} {cost.docs:>5} {cost.wall_us:>12.0f} {cpu}  "
                      f"{plan if row == 0 else ''}", flush=True)
    finally:
        client.drop_database(db_name)
        client.close()
    small, large = results[sizes[0]], results[sizes[-1]]
    # The server's CPU when it is local: on a shared machine wall time also counts waiting for a core.
    by_cpu = server is not None and all(c.cpu_us for c in (*small.values(), *large.values()))
    print(f"ratios of {'server CPU' if by_cpu else 'wall time'} per document, {sizes[-1]} stored ÷ {sizes[0]}:")
    for name in ("update", "delete"):
        print(f"{name}_ratio: {per_doc(large[name], by_cpu) / per_doc(small[name], by_cpu):.2f}")


if __name__ == "__main__":
    main()
