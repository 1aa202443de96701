"""`dataget worker`: runs the indexer (entity topics -> Mongo + Redis facet index) in this process."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import threading
from typing import Any

import faust

from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from stream_processors.app import create_app


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("worker", help="index entity topics into MongoDB and the Redis facet index")
    parser.add_argument("--namespace", default=None,
                        help="reindex: write only this facet index namespace, reading every topic from the start "
                             "under its own consumer group (default: the live worker, Mongo + the active index)")
    parser.add_argument("--shutdown-grace", type=float, default=SHUTDOWN_GRACE_S, metavar="SECONDS",
                        help="on SIGTERM/SIGINT, exit without committing if stopping takes longer than this "
                             f"(default {SHUTDOWN_GRACE_S:g}; the batch in hand is redelivered on restart)")
    parser.set_defaults(func=run)


# Stopping waits for the batch in hand, and while a store is down that batch retries forever. Ending it any other
# way would ack it (faust acks a take() batch however its handler ends), so past the grace the process exits
# at once: nothing more is committed and the batch is redelivered when a worker starts again.
SHUTDOWN_GRACE_S = 30.0
# Young objects collected every GC_THRESHOLDS[0] allocations instead of CPython's 700 (see tune_gc).
GC_THRESHOLDS = (50_000, 20, 20)
log = logging.getLogger(__name__)


def tune_gc() -> None:
    """Collect garbage for a process whose heap is long-lived (faust, aiokafka, pymongo) and whose batches allocate
    ~100k objects without reference cycles (decoded records, BSON, facet payloads). With CPython's defaults the
    collector walked each batch again every few records, and the full collections the batches set off walked the
    whole heap: decoding a release took ~125 us instead of ~27 (bench/pipeline.py: 1.66k -> 2.12k releases/s).
    The heap built so far is frozen out of the collector's walks.
    """
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _abandon(grace: float) -> None:
    log.warning("could not stop within %.0f s (a store is unreachable?): exiting without committing the batch in "
                "hand; it is redelivered on restart", grace)
    logging.shutdown()
    os._exit(1)


class IndexerWorker(faust.Worker):
    def __init__(self, app: faust.App, shutdown_grace: float, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._shutdown_grace = shutdown_grace

    async def stop(self) -> None:
        # A thread, not the event loop: the loop is the thing that may be stuck.
        deadline = threading.Timer(self._shutdown_grace, _abandon, args=(self._shutdown_grace,))
        deadline.daemon = True
        deadline.start()
        await super().stop()


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Subscribing to a topic that doesn't exist yet would only be noticed at the next metadata refresh.
    ensure_topics(settings)
    app = create_app(settings, index_namespace=args.namespace)
    tune_gc()
    loglevel = "debug" if logging.getLogger().isEnabledFor(logging.DEBUG) else "info"
    # faust's Worker installs SIGTERM/SIGINT handlers that stop the agents and commit before exiting.
    worker = IndexerWorker(app, shutdown_grace=args.shutdown_grace, loglevel=loglevel)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0

