"""Disk per record: each entity's record JSON, its zstd and lz4 Kafka batches, and the document FerretDB stores.

    .venv/bin/python bench/storage.py [--dumps DIR] [--copies 10]

Reads real dump excerpts (default: ../shared/fixtures/discogs, else tests/fixtures/discogs), compresses the record
JSON in 512 KB batches as the publisher does, writes `--copies` copies of each entity's documents (plain, then
compressed) into a throwaway Mongo database and reads their stored size (collStats), then projects each to the full
catalogue (counts of the 2026-09 dumps), releases scaled by the real dump's XML bytes per release.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import lz4.frame
import orjson
import zstandard
from pymongo import MongoClient

from producers.records import iter_records
from runtime.settings import settings_from_env
from sinks.mongo_store import to_document
from sinks.record_packing import RecordPacker

ROOT = Path(__file__).resolve().parent.parent
FULL = {"releases": 19_417_067, "masters": 2_589_349, "artists": 10_203_002, "labels": 2_415_476}
# The 2026-09 releases dump: 62 GB of XML for 19.4M releases; the excerpt's XML (lxml's serialization) runs larger.
FULL_XML_PER_RELEASE = 62e9 / FULL["releases"]
BATCH = 512 * 1024


def excerpt(dumps: Path, entity: str) -> Path:
    return next(dumps.glob(f"{entity}-sample-philipmat-*.xml"))


def compressed(values: list[bytes], compress: Callable[[bytes], bytes]) -> int:
    total, batch = 0, b""
    for value in values:
        batch += value
        if len(batch) >= BATCH:
            total, batch = total + len(compress(batch)), b""
    return total + (len(compress(batch)) if batch else 0)


def stored_bytes(mongo_url: str, docs: list[dict], copies: int) -> float:
    client = MongoClient(mongo_url)
    name = f"zz_storage_{uuid.uuid4().hex[:8]}"
    try:
        for copy in range(copies):
            client[name].docs.insert_many([{**d, "_id": f"{d['_id']}-{copy}"} for d in docs])
        time.sleep(0.5)
        return client[name].command("collStats", "docs")["size"] / (len(docs) * copies)
    finally:
        client.drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = ROOT.parent / "shared" / "fixtures" / "discogs"
    parser.add_argument("--dumps", type=Path, default=shared if shared.exists() else ROOT / "tests/fixtures/discogs")
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    settings = settings_from_env()
    zstd = zstandard.ZstdCompressor().compress
    packer = RecordPacker.load()
    totals = {"json": 0.0, "zstd": 0.0, "lz4": 0.0, "mongo": 0.0, "packed": 0.0}
    print(f"{'entity':9} {'records':>7} {'JSON B':>7} {'zstd B':>7} {'lz4 B':>7} {'Mongo B':>8} {'packed':>7}   "
          "full catalogue GB: JSON / zstd topic / lz4 topic / Mongo / Mongo compressed")
    for entity in FULL:
        path = excerpt(args.dumps, entity)
        values = [item.value for item in iter_records(path) if item.value is not None]
        n = len(values)
        # Per-record sizes of the excerpt, scaled by how much smaller the real dump's records are.
        scale = FULL_XML_PER_RELEASE / (path.stat().st_size / n) if entity == "releases" else 1.0
        records = [orjson.loads(v) for v in values]
        per = {
            "json": sum(map(len, values)) / n,
            "zstd": compressed(values, zstd) / n,
            "lz4": compressed(values, lz4.frame.compress) / n,
            "mongo": stored_bytes(settings.mongo_url, [to_document(r["id"], r) for r in records], args.copies),
            "packed": stored_bytes(settings.mongo_url, [to_document(r["id"], r, packer.pack(entity, r))
                                                        for r in records], args.copies),
        }
        full = {k: v * scale * FULL[entity] / 1e9 for k, v in per.items()}
        for k in totals:
            totals[k] += full[k]
        sizes = " ".join(f"{per[k]:>7.0f}" for k in ("json", "zstd", "lz4", "mongo", "packed"))
        print(f"{entity:9} {n:>7} {sizes}   " + " / ".join(f"{full[k]:.1f}" for k in per))
    print(f"full_json_gb: {totals['json']:.1f}")
    print(f"full_topics_gb: {totals['zstd']:.1f} (zstd; lz4 {totals['lz4']:.1f})")
    print(f"full_mongo_gb: {totals['mongo']:.1f} plain, {totals['packed']:.1f} compressed (this server's stored size)")


if __name__ == "__main__":
    main()
