"""`dataget ingest PATH... [--wait]`: publish dump files to the entity topics."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from producers.ingest import IngestError, ingest_file
from producers.publisher import Publisher
from producers.record_hashes import RecordHashes
from runtime.lag import wait_for_lag_zero
from runtime.progress import progress
from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from runtime.unreachable import unreachable_server
from schemas.topics import indexer_group_id

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help="publish Discogs dump files (.xml or .xml.gz) to Kafka")
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--wait", action="store_true", help="return once the index workers consumed everything")
    parser.add_argument("--wait-timeout", type=float, default=None, help="seconds to wait at most with --wait")
    parser.add_argument("--dump-version", help="YYYYMMDD, when the file name does not carry it")
    parser.add_argument("--allow-mass-delete", action="store_true",
                        help="publish tombstones even when more than the allowed share of an entity vanished")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="parser processes for releases, masters and artists (default %(default)s)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    missing = [str(p) for p in args.paths if not p.is_file()]
    if missing:
        print(f"dataget ingest: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    ensure_topics(settings)
    hashes = RecordHashes(settings.state_dir / "record-hashes.sqlite")
    publisher = Publisher(settings)
    topics = []
    try:
        for path in args.paths:
            with progress(f"ingest {path.name}", "rec") as on_record:
                report = ingest_file(path, settings, publisher, hashes, dump_version=args.dump_version,
                                     allow_mass_delete=args.allow_mass_delete, on_record=on_record,
                                     jobs=args.jobs)
            topics.append(report.topic)
            counts = " ".join(f"{k}={v}" for k, v in report.counts.items())
            print(f"{path.name}: {report.entity} dump {report.dump_version}: {counts}")
    except IngestError as exc:
        if unreachable_server(exc, settings) is not None:
            raise  # the CLI says which server did not answer (dataget/cli.py)
        print(f"dataget ingest: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        publisher.close()
        hashes.close()
    if args.wait:
        group = indexer_group_id(settings.namespace)
        wait_for_lag_zero(settings, group, sorted(set(topics)), timeout=args.wait_timeout,
                          on_progress=lambda lag: log.info("index workers: %d messages to go", lag))
        print("index workers caught up")
    return 0
