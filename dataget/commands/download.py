"""`dataget download [--types ...] [--dump YYYYMMDD] [--check] [--out DIR]`: fetch and verify a Discogs dump.

Without --dump it takes the newest complete dump listed. --check (for a daily cron) downloads nothing: exit 0 when
there is a complete dump not yet verified in the download dir (newer, or re-uploaded), 1 when there is none.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from producers.dump_discovery import CHECKSUM, DUMP_TYPES, ListingError, is_dump_id, newest_complete
from producers.dump_fetch import DumpFetcher, latest_verified
from producers.dump_http import DumpSiteError, Fetcher, NotFound, open_client
from runtime.settings import Settings

log = logging.getLogger(__name__)
EXIT_NONE = 1  # --check: no new complete dump
EXIT_FAILED = 3  # the site kept failing, or a file would not verify


def _types(value: str) -> tuple[str, ...]:
    wanted = {t.strip() for t in value.split(",") if t.strip()}
    unknown = wanted - set(DUMP_TYPES)
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(f"types are a comma-separated subset of {','.join(DUMP_TYPES)}")
    return tuple(t for t in DUMP_TYPES if t in wanted)


def _dump_id(value: str) -> str:
    if not is_dump_id(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a YYYYMMDD date")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("download", help="download and verify the newest complete Discogs dump (or --dump)")
    parser.add_argument("--types", type=_types, default=DUMP_TYPES, help="comma-separated (default: all four)")
    parser.add_argument("--dump", type=_dump_id, help="YYYYMMDD of the dump (default: newest complete)")
    parser.add_argument("--check", action="store_true",
                        help="only say whether a new complete dump exists: exit 0 yes, 1 no")
    parser.add_argument("--out", type=Path,
                        help="download dir (default: DATAGET_DOWNLOAD_DIR); files go to OUT/YYYYMMDD/")
    parser.set_defaults(func=run)


def run(
    args: argparse.Namespace,
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    today: date | None = None,
) -> int:
    out: Path = args.out or settings.download_dir
    base = settings.dump_base_url
    with open_client() as client:
        fetcher = Fetcher(client, sleep=sleep)
        dumps = DumpFetcher(fetcher, base, out)
        try:
            dump_id = args.dump
            if dump_id is None:
                listed = newest_complete(lambda url: fetcher.text(url, url), base, args.types,
                                         today or date.today())
                if listed is None:
                    print(f"no complete dump with {','.join(args.types)} listed at {base}")
                    return EXIT_NONE if args.check else EXIT_FAILED
                dump_id = listed.dump_id
                log.info("newest complete dump: %s (CHECKSUM listed %s)", dump_id,
                         listed.files[CHECKSUM].modified or "without a date")
            if args.check:
                return _check(dumps, dump_id, args.types, out)
            paths = dumps.fetch(dump_id, args.types)
        except NotFound as exc:
            if args.check:
                print(f"dump {dump_id} is not complete: {exc}")
                return EXIT_NONE
            print(f"dataget download: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except (DumpSiteError, ListingError) as exc:
            print(f"dataget download: {exc}", file=sys.stderr)
            return EXIT_FAILED
    for path in paths:
        print(path)
    return 0


def _check(dumps: DumpFetcher, dump_id: str, types: tuple[str, ...], out: Path) -> int:
    have = latest_verified(out, types)
    if have is not None and have > dump_id:
        print(f"no new dump: {have} in {out} is newer than {dump_id}")
        return EXIT_NONE
    plan = dumps.plan(dump_id, types)
    if not plan.todo:
        print(f"no new dump: {dump_id} is already verified in {out}")
        return EXIT_NONE
    print(f"new dump {dump_id}: {len(plan.todo)} file(s) to download ({','.join(plan.todo)}); have {have or 'none'}")
    return 0
