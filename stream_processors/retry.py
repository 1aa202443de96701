"""Retry a batch until it succeeds, with capped exponential backoff (a down store must stall, never skip)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0

    def delays(self) -> Iterator[float]:
        """0.5, 1, 2, 4, ... capped at `maximum`, forever."""
        delay = self.initial
        while True:
            yield delay
            delay = min(delay * self.factor, self.maximum)


async def retry_forever(
    action: Callable[[], Awaitable[T]],
    what: str,
    expected: tuple[type[BaseException], ...] = (),
    backoff: Backoff = Backoff(),  # frozen, so sharing the default is safe
    sleep: Sleep = asyncio.sleep,
    fatal: tuple[type[BaseException], ...] = (),
) -> T:
    """Await `action()` until it returns. Every Exception is retried (cancellation is not), but `fatal` ones, which
    no retry can cure, are raised at once: the caller then ends the process without acking the batch.

    Used around a whole batch: faust acks a batch whose agent raised, so raising would lose it; re-running it is
    safe because every write is idempotent. `expected` errors (a store that is down) are logged without a
    traceback; anything else is a bug and logged with one, but still retried rather than skipped.
    """
    delays = backoff.delays()
    attempt = 0
    while True:
        try:
            return await action()
        except fatal:
            raise
        except Exception as exc:
            attempt += 1
            delay = next(delays)
            log.log(logging.WARNING if isinstance(exc, expected) else logging.ERROR,
                    "%s failed (attempt %d), retrying in %.1fs: %s: %s",
                    what, attempt, delay, type(exc).__name__, exc,
                    exc_info=not isinstance(exc, expected))
            await sleep(delay)
