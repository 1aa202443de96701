"""`dataget synth`: write a synthetic dump set (see dataget.synth.dump_set)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dataget.synth.dump_set import PROFILES, write_dump_set
from runtime.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("synth", help="write a synthetic Discogs dump set (for tests, demos, benchmarks)")
    parser.add_argument("--releases", type=int, required=True, help="number of releases (revision 0)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default: <download dir>/synth, i.e. dumps/synth)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", default="20260301", help="dump date YYYYMMDD used in the file names")
    parser.add_argument("--revision", type=int, default=0, help="n > 0: the n-th following month's dump")
    parser.add_argument("--workers", type=int, default=None, help="rendering processes (default: CPUs)")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="classic",
                        help="classic: small, quick sets for tests and demos; discogs: the real catalogue's shape "
                             "(masters, videos, facet values; see bench/README.md)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    def report(kind: str, count: int, seconds: float) -> None:
        print(f"{kind:9} {count:>10,} records  {seconds:7.1f} s  ({count / max(seconds, 1e-9):,.0f}/s)", flush=True)

    try:
        out = args.out if args.out is not None else settings.download_dir / "synth"
        dumps = write_dump_set(out, args.releases, seed=args.seed, dump_date=args.date,
                               revision=args.revision, workers=args.workers, profile=args.profile,
                               progress=report)
    except ValueError as exc:
        print(f"dataget synth: {exc}", file=sys.stderr)
        return 2
    for kind, path in dumps.files.items():
        print(f"{path}  {dumps.counts[kind]:,} {kind}  {path.stat().st_size:,} bytes")
    print(dumps.checksum)
    return 0
