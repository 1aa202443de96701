"""The site's background upkeep: users gone for long are forgotten (their OAuth tokens and sessions deleted)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from aiohttp import web

from web.ports import Store
from web.sessions import USER_RETENTION

log = logging.getLogger(__name__)

# Every site process does it (the deletes are idempotent); once an hour is plenty for a 180-day limit.
EVERY_S = 3600.0


async def forget_idle_users(store: Store, now: datetime) -> None:
    try:
        if gone := await store.forget_idle_users(now - USER_RETENTION):
            log.info("forgot %d users not seen for %d days (tokens and sessions deleted)", gone, USER_RETENTION.days)
    except Exception as exc:  # the store may be down for a while: next hour then
        log.warning("could not forget idle users: %s: %s", type(exc).__name__, exc)


def upkeep(store: Store, every_s: float = EVERY_S) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running forget_idle_users at start and then every `every_s` seconds."""

    async def run() -> None:
        while True:
            await forget_idle_users(store, datetime.now(UTC))
            await asyncio.sleep(every_s)

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run(), name="site-upkeep")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx
