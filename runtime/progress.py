"""A progress bar on a terminal, plain log lines otherwise (cron, CI, pipes)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from tqdm import tqdm

log = logging.getLogger("runtime.progress")
LOG_EVERY_SECONDS = 10.0


class Progress(Protocol):
    def __call__(self, position: int) -> None: ...


@contextmanager
def progress(label: str, unit: str, total: int | None = None) -> Iterator[Progress]:
    """Yields a callable taking the absolute position (records, bytes...)."""
    if sys.stderr.isatty():
        bar = tqdm(total=total, desc=label, unit=unit, unit_scale=True, dynamic_ncols=True)

        def update_bar(position: int) -> None:
            bar.update(position - bar.n)

        try:
            yield update_bar
        finally:
            bar.close()
        return
    started = last = time.monotonic()

    def update_log(position: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= LOG_EVERY_SECONDS:
            last = now
            rate = position / max(now - started, 1e-9)
            of = f"/{total}" if total else ""
            log.info("%s: %d%s %s (%.0f %s/s)", label, position, of, unit, rate, unit)

    yield update_log
