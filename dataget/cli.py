"""The `dataget` console script: one subcommand per job, each registered by the module that owns it."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from runtime.settings import settings_from_env
from runtime.unreachable import UNREACHABLE, unreachable_message

# Each module defines `register(subparsers)`, adding its subcommand(s) with
# `set_defaults(func=run)` where `run(args: argparse.Namespace, settings: Settings) -> int`.
COMMAND_MODULES = tuple(
    f"dataget.commands.{name}"
    for name in ("stack", "synth", "download", "ingest", "tail", "worker", "youtube_worker", "web", "status",
                 "keygen", "rotate_keys", "demo", "reindex")
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dataget", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Per-request lines from the HTTP and Kafka clients drown the job's own progress.
    for chatty in ("httpx", "kafka", "aiokafka"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    try:
        settings = settings_from_env()
    except ValueError as exc:
        print(f"dataget: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings) or 0)
    except BrokenPipeError:
        # The reader went away (`dataget status | head`): no traceback, and none when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        message = unreachable_message(exc, settings)
        if message is None:
            raise
        print(f"dataget {args.command}: {message}", file=sys.stderr)
        return UNREACHABLE


if __name__ == "__main__":
    sys.exit(main())
