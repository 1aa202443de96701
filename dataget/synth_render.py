"""Rendering the record lines of one synthetic dump file, in ascending id order, optionally in parallel.

Records are independent functions of their slot, so a file is cut into fixed slot ranges rendered by worker
processes and reassembled in order: the bytes do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache, partial
from multiprocessing.pool import Pool

from dataget.synth_entities import EntitySynth
from dataget.synth_plan import Entity, Plan
from dataget.synth_releases import ReleaseSynth
from dataget.synth_text import Names

ENTITY = {"artists": Entity.ARTIST, "labels": Entity.LABEL, "masters": Entity.MASTER, "releases": Entity.RELEASE}
CHUNK_SLOTS = 1000  # slots per unit of work (~3 MB of release XML)


@lru_cache(maxsize=2)
def _synths(plan: Plan) -> tuple[ReleaseSynth, EntitySynth]:
    """Builders (with their name caches and fragment pools) shared by all chunks of a plan in this process."""
    names = Names(plan)
    return ReleaseSynth(plan, names), EntitySynth(plan, names)


def render_chunk(plan: Plan, kind: str, start: int) -> tuple[str, int]:
    """Records of slots [start, start + CHUNK_SLOTS) that exist at the plan's revision: (text, count).

    Each record is one line ending in a newline, like the real dumps.
    """
    releases, entities = _synths(plan)
    entity = ENTITY[kind]
    build = {"artists": entities.artist, "labels": entities.label,
             "masters": releases.master, "releases": releases.release}[kind]
    lines = []
    for slot in range(start, min(start + CHUNK_SLOTS, plan.slots(entity))):
        changes = plan.history(entity, slot)
        if changes is not None:
            lines.append(build(slot, changes))
    lines.append("")
    return "\n".join(lines), len(lines) - 1


@contextmanager
def worker_pool(plan: Plan, workers: int) -> Iterator[Pool | None]:
    """Rendering processes for `render`, or None (render in this process) when workers <= 1.

    Forked where possible: children inherit the builders warmed up here, and nothing re-imports the caller's
    main module (spawn would re-run an unguarded script). Call this before starting any thread of your own.
    """
    if workers <= 1:
        yield None
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    _synths(plan)
    with context.Pool(workers) as pool:
        yield pool


def render(plan: Plan, kind: str, pool: Pool | None = None) -> Iterator[tuple[str, int]]:
    """All chunks (text, record count) of one file, in order."""
    job = partial(render_chunk, plan, kind)
    starts = range(0, plan.slots(ENTITY[kind]), CHUNK_SLOTS)
    return iter(map(job, starts)) if pool is None else pool.imap(job, starts)
