"""Parse and publish a dump with several processes: the ingest process only decompresses and cuts blocks.

Each parser process has its own Kafka producer and a read-only view of the record hashes; it returns a block's
hashes only after Kafka acknowledged the block, and the ingest process records them. Processes are spawned,
not forked: the ingest process already runs Kafka client threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path

from producers.batch_publish import BatchOutcome, BatchTarget, publish_batch
from producers.chunks import parse_block, raw_blocks
from producers.dumpfile import DumpFileError
from producers.gc_pause import gc_paused
from producers.publisher import Publisher, PublishError
from producers.record_hashes import RecordHashes
from runtime.unreachable import ServerUnreachable, unreachable_server

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class BlockFailure:
    kind: str  # "dump" (the file is damaged) or "publish" (Kafka refused)
    message: str
    unreachable: str | None = None  # the server that did not answer (dataget/unreachable.py), if that was it


def serve_blocks(target: BatchTarget, hashes_path: Path, name: str, tasks: Queue, results: Queue) -> None:
    """A parser process: blocks in, outcomes (or one failure) out, until the None sentinel."""
    publisher = Publisher(target.settings)
    hashes = RecordHashes(hashes_path, readonly=True)
    try:
        while (block := tasks.get()) is not None:
            try:
                with gc_paused():
                    outcome = publish_batch(target, parse_block(target.entity, block, name), publisher, hashes)
            except DumpFileError as exc:
                results.put(BlockFailure("dump", str(exc)))
            except PublishError as exc:
                results.put(BlockFailure("publish", str(exc), unreachable_server(exc, target.settings)))
            else:
                results.put(outcome)
    finally:
        publisher.close()
        hashes.close()


def parallel_outcomes(path: Path, target: BatchTarget, hashes_path: Path, jobs: int) -> Iterator[BatchOutcome]:
    """Outcomes of every block of the file (in completion order); raises DumpFileError / PublishError."""
    ctx = multiprocessing.get_context("spawn")
    tasks: Queue = ctx.Queue(maxsize=jobs * 2)  # bounded: memory stays a few blocks whatever the file size
    results: Queue = ctx.Queue()
    workers = [ctx.Process(target=serve_blocks, args=(target, hashes_path, path.name, tasks, results), daemon=True)
               for _ in range(jobs)]
    for worker in workers:
        worker.start()
    pending = 0

    def collected(wait: bool) -> Iterator[BatchOutcome]:
        nonlocal pending
        for outcome in _drain(results, wait, workers):
            pending -= 1
            yield outcome

    try:
        for block in raw_blocks(path, target.entity):
            while True:
                try:
                    tasks.put(block, timeout=POLL_SECONDS)
                    break
                except queue.Full:
                    yield from collected(wait=False)
            pending += 1
            yield from collected(wait=False)
        while pending:
            yield from collected(wait=True)
    except BaseException:
        for worker in workers:  # don't let them publish the rest of a file that failed
            worker.kill()
        raise
    finally:
        for _ in workers:
            with contextlib.suppress(queue.Full):
                tasks.put(None, timeout=1)
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
        # Blocks meant for a killed parser stay in the pipe unread; without this, interpreter exit waits
        # forever for the queue's feeder thread to flush them.
        tasks.cancel_join_thread()


def _check_alive(workers: list) -> None:
    dead = [w for w in workers if not w.is_alive()]
    if dead:
        raise PublishError(f"a parser process died (exit code {dead[0].exitcode})")


def _drain(results: Queue, wait: bool, workers: list) -> Iterator[BatchOutcome]:
    """What the parser processes finished: all that is ready, or (wait=True) at least one."""
    while True:
        try:
            item = results.get(timeout=POLL_SECONDS) if wait else results.get_nowait()
        except queue.Empty:
            _check_alive(workers)
            if wait:
                continue
            return
        if isinstance(item, BlockFailure):
            if item.kind == "dump":
                raise DumpFileError(item.message)
            cause = ServerUnreachable(item.unreachable) if item.unreachable else None
            raise PublishError(item.message) from cause
        yield item
        if wait:
            return
