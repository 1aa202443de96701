"""`dataget worker`: runs the indexer (entity topics -> Mongo + Redis facet index) in this process."""

from __future__ import annotations

import argparse
import logging

import faust

from dataget.settings import Settings
from dataget.topic_admin import ensure_topics
from stream_processors.app import create_app


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="index entity topics into MongoDB and the Redis facet index")
    parser.add_argument("--namespace", default=None,
                        help="reindex: write only this facet index namespace, reading every topic from the start "
                             "under its own consumer group (default: the live worker, Mongo + the active index)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Subscribing to a topic that doesn't exist yet would only be noticed at the next metadata refresh.
    ensure_topics(settings)
    app = create_app(settings, index_namespace=args.namespace)
    loglevel = "debug" if logging.getLogger().isEnabledFor(logging.DEBUG) else "info"
    # faust's Worker installs SIGTERM/SIGINT handlers that stop the agents and commit before exiting.
    worker = faust.Worker(app, loglevel=loglevel)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0

