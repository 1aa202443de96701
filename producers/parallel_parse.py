"""Parse and publish a dump with several processes: the ingest process only decompresses and cuts blocks.

Each parser process has its own Kafka producer and a read-only view of the record hashes; it returns a block's
hashes only after Kafka acknowledged the block, and the ingest process records them. Processes are spawned,
not forked: the ingest process already runs Kafka client threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path

from producers.batch_publish import BatchOutcome, BatchTarget, publish_batch
from producers.chunks import parse_block, raw_blocks
from producers.dumpfile import DumpFileError
from producers.gc_pause import gc_paused
from producers.publisher import CHECKPOINT_TIMEOUT_S, Publisher, PublishError
from producers.record_hashes import RecordHashes
from runtime.unreachable import ServerUnreachable, unreachable_server

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class BlockFailure:
    kind: str  # "dump" (the file is damaged) or "publish" (Kafka refused)
    message: str
    unreachable: str | None = None  # the server that did not answer (runtime/unreachable.py), if that was it


def serve_blocks(target: BatchTarget, hashes_path: Path, name: str, tasks: Queue, results: Queue,
                 connect_timeout_s: float = CHECKPOINT_TIMEOUT_S) -> None:
    """A parser process: blocks in, outcomes (or one failure) out, until the None sentinel."""
    try:
        # Kafka may be restarting when a file starts: wait it out as the ingest process does.
        publisher = Publisher.connect(target.settings, connect_timeout_s)
    except PublishError as exc:
        results.put(_publish_failure(exc, target))
        return
    hashes = RecordHashes(hashes_path, readonly=True)
    try:
        while (block := tasks.get()) is not None:
            try:
                with gc_paused():
                    outcome = publish_batch(target, parse_block(target.entity, block, name), publisher, hashes)
            except DumpFileError as exc:
                results.put(BlockFailure("dump", str(exc)))
            except PublishError as exc:
                results.put(_publish_failure(exc, target))
            else:
                results.put(outcome)
    finally:
        publisher.close()
        hashes.close()


def _publish_failure(exc: PublishError, target: BatchTarget) -> BlockFailure:
    return BlockFailure("publish", str(exc), unreachable_server(exc, target.settings))


def parallel_outcomes(path: Path, target: BatchTarget, hashes_path: Path, jobs: int,
                      connect_timeout_s: float = CHECKPOINT_TIMEOUT_S) -> Iterator[BatchOutcome]:
    """Outcomes of every block of the file (in completion order); raises DumpFileError / PublishError.
    A parser process waits up to connect_timeout_s for Kafka to answer."""
    ctx = multiprocessing.get_context("spawn")
    tasks: Queue = ctx.Queue(maxsize=jobs * 2)  # bounded: memory stays a few blocks whatever the file size
    results: Queue = ctx.Queue()
    workers = [ctx.Process(target=serve_blocks, daemon=True,
                           args=(target, hashes_path, path.name, tasks, results, connect_timeout_s))
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


def _last_word(results: Queue, dead: BaseProcess) -> object:
    """A parser that could not connect reports why, then exits: read that before calling the exit a death."""
    try:
        return results.get(timeout=POLL_SECONDS)
    except queue.Empty:
        raise PublishError(f"a parser process died (exit code {dead.exitcode})") from None


def _drain(results: Queue, wait: bool, workers: Sequence[BaseProcess]) -> Iterator[BatchOutcome]:
    """What the parser processes finished: all that is ready, or (wait=True) at least one."""
    while True:
        try:
            item = results.get(timeout=POLL_SECONDS) if wait else results.get_nowait()
        except queue.Empty:
            dead = [w for w in workers if not w.is_alive()]
            if dead:
                item = _last_word(results, dead[0])
            elif wait:
                continue
            else:
                return
        if isinstance(item, BlockFailure):
            if item.kind == "dump":
                raise DumpFileError(item.message)
            cause = ServerUnreachable(item.unreachable) if item.unreachable else None
            raise PublishError(item.message) from cause
        yield item
        if wait:
            return
