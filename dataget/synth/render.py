"""Rendering the record lines of one synthetic dump file, in ascending id order, optionally in parallel.

Records are independent functions of their slot, so a file is cut into fixed slot ranges that worker processes
render and compress; the pieces are joined in order into one gzip stream, so the bytes do not depend on the
number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache, partial
from multiprocessing.pool import AsyncResult, Pool

from dataget.synth.compress import Piece, compress_piece
from dataget.synth.entities import EntitySynth
from dataget.synth.plan import Entity, Plan
from dataget.synth.releases import ReleaseSynth
from dataget.synth.text import Names

ENTITY = {"artists": Entity.ARTIST, "labels": Entity.LABEL, "masters": Entity.MASTER, "releases": Entity.RELEASE}
CHUNK_SLOTS = 1000  # slots per unit of work (~3 MB of release XML)


@lru_cache(maxsize=2)
def _synths(plan: Plan) -> tuple[ReleaseSynth, EntitySynth]:
    """Builders (with their name caches and fragment pools) shared by all chunks of a plan in this process."""
    names = Names(plan)
    return ReleaseSynth(plan, names), EntitySynth(plan, names)


def render_chunk(plan: Plan, kind: str, level: int, start: int) -> Piece:
    """Records of slots [start, start + CHUNK_SLOTS) that exist at the plan's revision, compressed.

    Each record is one line, like the real dumps; the first chunk opens the root element, the last closes it.
    """
    releases, entities = _synths(plan)
    slots = plan.slots(ENTITY[kind])
    build = {"artists": entities.artist, "labels": entities.label,
             "masters": releases.master, "releases": releases.release}[kind]
    lines = [f"<{kind}>"] if start == 0 else []
    for slot in range(start, min(start + CHUNK_SLOTS, slots)):
        changes = plan.history(ENTITY[kind], slot)
        if changes is not None:
            lines.append(build(slot, changes))
    records = len(lines) - (start == 0)
    last = start + CHUNK_SLOTS >= slots
    if last:
        lines.append(f"</{kind}>")
    lines.append("")
    return compress_piece("\n".join(lines), records, level=level, last=last)


@contextmanager
def worker_pool(plan: Plan, workers: int) -> Iterator[Pool | None]:
    """Rendering processes for `render`, or None (render in this process) when workers <= 1.

    Forked where possible: children inherit the builders warmed up here, and nothing re-imports the caller's
    main module (spawn would re-run an unguarded script).
    """
    if workers <= 1:
        yield None
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    _synths(plan)
    with context.Pool(workers) as pool:
        yield pool


def render(plan: Plan, kind: str, level: int, pool: Pool | None = None, window: int = 8) -> Iterator[Piece]:
    """All compressed chunks of one file, in order (see `synth_gzip.write_pieces`).

    With a pool, at most `window` chunks are in flight or waiting to be consumed.
    """
    job = partial(render_chunk, plan, kind, level)
    starts = range(0, max(1, plan.slots(ENTITY[kind])), CHUNK_SLOTS)
    if pool is None:
        yield from map(job, starts)
        return
    # Pool.imap would queue every finished chunk in memory; a window of pending jobs keeps memory constant.
    pending: deque[AsyncResult[Piece]] = deque()
    for start in starts:
        pending.append(pool.apply_async(job, (start,)))
        if len(pending) >= window:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()
