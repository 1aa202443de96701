"""`dataget stack build | up | status | down [--purge]`."""

from __future__ import annotations

import argparse
import sys

from dataget.stack import StackError, stack_build, stack_down, stack_status, stack_up
from runtime.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("stack", help="run the local Kafka, FerretDB and Redis servers")
    parser.add_argument("action", choices=["build", "up", "status", "down"])
    parser.add_argument("--purge", action="store_true", help="with down: delete data and logs too")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "build":
            for name, product in stack_build(settings).items():
                print(f"{name:9} {product}")
        elif args.action == "up":
            started = stack_up(settings)
            print(f"stack up ({'started ' + ', '.join(started) if started else 'already running'})")
        elif args.action == "down":
            stopped = stack_down(settings, purge=args.purge)
            print(f"stack down (stopped {', '.join(stopped) or 'nothing'}{', data purged' if args.purge else ''})")
        else:
            status = stack_status(settings)
            for name, line in status.items():
                print(f"{name:9} {line}")
            return 0 if all(line.startswith("up") for line in status.values()) else 1
    except StackError as exc:
        print(f"dataget stack: {exc}", file=sys.stderr)
        return 1
    return 0
