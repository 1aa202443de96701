"""Producer benchmark: bare iterparse (the ceiling), parse-to-record (its JSON), parse+publish to the real broker.

    .venv/bin/python bench/producer.py [--releases 200000]

Prints releases/s for each stage, RSS while the dump is read (ingest process plus its parser processes),
and last `ratio: X` = parse+publish / bare. The dump is generated once into bench/out/ and reused.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid
from pathlib import Path

import psutil
from dump_sets import dump_set_once
from lxml import etree

from producers.dumpfile import open_dump
from producers.ingest import ingest_file
from producers.publisher import Publisher
from producers.record_hashes import RecordHashes
from producers.records import iter_records
from runtime.settings import settings_from_env
from runtime.topic_admin import drop_topics, ensure_topics
from schemas.topics import Topics


def bare_iterparse(path: Path) -> int:
    count = 0
    with open_dump(path) as fh:
        for _, elem in etree.iterparse(fh, events=("end",), tag="release"):
            count += 1
            elem.clear(keep_tail=False)
            while elem.getprevious() is not None:
                del elem.getparent()[0]
    return count


def parse_to_record(path: Path) -> int:
    return sum(1 for _ in iter_records(path))


def parse_and_publish(path: Path, work: Path, jobs: int) -> int:
    """What `dataget ingest` does, into fresh topics; prints the RSS of all its processes as the dump goes by."""
    settings = settings_from_env().with_(topics=Topics(f"bench{uuid.uuid4().hex[:8]}."))
    ensure_topics(settings)
    publisher = Publisher(settings)
    hashes = RecordHashes(work / f"hashes-{uuid.uuid4().hex}.sqlite")
    samples: list[tuple[int, float, float]] = []

    def sample(records: int) -> None:
        if not samples or records - samples[-1][0] >= 25_000:
            samples.append((records, *tree_memory_mb()))

    try:
        published = ingest_file(path, settings, publisher, hashes, jobs=jobs, on_record=sample).counts["published"]
    finally:
        publisher.close()
        hashes.close()
        drop_topics(settings)
    print("RSS / PSS of ingest + parser processes (MB) by records read: "
          + " ".join(f"{n // 1000}k:{rss:.0f}/{pss:.0f}" for n, rss, pss in samples))
    print(f"peak tree RSS: {max(s[1] for s in samples):.0f} MB  peak tree PSS: {max(s[2] for s in samples):.0f} MB")
    return published


def tree_memory_mb() -> tuple[float, float]:
    """RSS and PSS summed over this process and its parser processes. RSS counts the pages of the libraries
    they share (Python, lxml, kafka) once per process; PSS splits shared pages between them, so its sum is the
    memory the tree really occupies."""
    me = psutil.Process()
    infos = [p.memory_full_info() for p in [me, *me.children(recursive=True)]]
    return sum(i.rss for i in infos) / 2**20, sum(i.pss for i in infos) / 2**20


def timed(label: str, fn, *args) -> float:
    rss_before = psutil.Process().memory_info().rss
    start = time.perf_counter()
    count = fn(*args)
    elapsed = time.perf_counter() - start
    rate = count / elapsed
    rss_after = psutil.Process().memory_info().rss
    print(f"{label:16} {count:9d} releases in {elapsed:7.2f}s = {rate:9.0f} releases/s "
          f"(RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MB)", flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path("bench/out"))
    parser.add_argument("--jobs", type=int, default=2, help="parser processes, as `dataget ingest --jobs`")
    args = parser.parse_args()
    dump_dir = dump_set_once(args.work / f"synth-{args.releases}", args.releases)
    path = next(dump_dir.glob("discogs_*_releases.xml.gz"))
    print(f"file: {path} ({path.stat().st_size / 2**20:.0f} MB gz)")
    bare = timed("bare iterparse", bare_iterparse, path)
    timed("parse-to-record", parse_to_record, path)
    full = timed(f"parse+publish/{args.jobs}", parse_and_publish, path, args.work, args.jobs)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")
    print(f"ratio: {full / bare:.2f}")


if __name__ == "__main__":
    main()
