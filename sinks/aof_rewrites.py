"""Automatic AOF rewrites held off while the index is built in bulk.

A rewrite forks, and every page written while it runs is copied outside maxmemory: a 4M-release replay's writes
copied 919 MB of a 1.4 GB index within one rewrite, and for the whole catalogue's ~12 GB that could be more than the
machine has beside it. So a bulk build (a reindex, or the live worker behind by a whole dump) holds a pause
(`auto-aof-rewrite-percentage 0`); the AOF grows by the build's commands meanwhile (~0.3 KB a release), and when the
last holder lets go the index's sets are packed for queries (set_packing.py), the setting is put back and one rewrite
runs.

Several processes may build at once (a reindex beside the live worker, several workers), so the pause is shared:
each holder is a member of a sorted set in the same Redis, scored by when its hold expires. A holder refreshes its
hold while it builds; one killed without letting go expires, and the next process that lets go or looks
(`settle`) resumes rewrites. A setting found at 0 with no pause recorded is an operator's choice and is left as it
is. Where CONFIG is refused (a managed Redis) builds go on with rewrites as they are, and say so once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from sinks.redis_text import redis_text
from sinks.set_packing import pack_sets

log = logging.getLogger(__name__)

AOF_REWRITE = "auto-aof-rewrite-percentage"
# Server-wide, like the setting: every namespace on this Redis shares them.
HOLDERS_KEY = "dataget:aof-rewrite-pause:holders"
SETTING_KEY = "dataget:aof-rewrite-pause:setting"
# A hold lasts this long unless refreshed: the longest rewrites stay off after its holder was killed.
HOLD_TTL_S = 600.0
# How often an index worker looks at its backlog (and refreshes its hold).
BACKLOG_LOOK_S = 30.0


async def _now(redis: Redis) -> float:
    """Redis' clock, the one every holder's expiry is scored by, whichever machine it runs on."""
    seconds, micros = await redis.time()
    return seconds + micros / 1e6


async def _setting(redis: Redis, name: str = AOF_REWRITE) -> str:
    return redis_text((await redis.config_get(name)).get(name, ""))


class RewritePause:
    """One holder's share of the pause: `hold` (again, to refresh) while building, `release` when done."""

    def __init__(self, redis: Redis, address: str, holder: str, ttl_s: float = HOLD_TTL_S) -> None:
        self._redis = redis
        self._address = address
        self._holder = holder
        self._ttl_s = ttl_s
        self._warned = False

    async def hold(self) -> None:
        redis = self._redis
        try:
            await redis.zadd(HOLDERS_KEY, {self._holder: await _now(redis) + self._ttl_s})
            setting = await _setting(redis)
            if setting == "0":
                if not await redis.exists(SETTING_KEY):
                    self._warn_once("AOF rewrites are off in Redis at %s (%s 0) and no build turned them off, so "
                                    "they stay off; set it back (100 by default) when you want them",
                                    self._address, AOF_REWRITE)
                return
            # Put back what was there first; a setting changed while paused (a holder's race) is set to 0 again.
            await redis.set(SETTING_KEY, setting, nx=True)
            await redis.config_set(AOF_REWRITE, 0)
        except ResponseError as exc:
            self._warn_once("could not pause AOF rewrites in Redis at %s (%s): a rewrite during the build copies "
                            "the pages the build writes, outside maxmemory", self._address, exc)

    async def release(self) -> None:
        await self._redis.zrem(HOLDERS_KEY, self._holder)
        await settle(self._redis)

    def _warn_once(self, message: str, *args: object) -> None:
        if not self._warned:
            log.warning(message, *args)
            self._warned = True


async def settle(redis: Redis) -> bool:
    """Once no hold is left (expired ones dropped), packs the sets the builds wrote, puts the setting back and starts
    the rewrite the builds went without; returns whether it did. Packing comes first, so the rewrite's fork copies
    none of its writes; should it fail, the pause stays recorded and the next settle tries again."""
    await redis.zremrangebyscore(HOLDERS_KEY, "-inf", await _now(redis))
    if await redis.zcard(HOLDERS_KEY):
        return False
    setting = await redis.get(SETTING_KEY)
    if setting is None:
        return False
    started = time.monotonic()
    packed = await pack_sets(redis)
    log.info("a bulk build is done: packed %d number sets for queries in %.1f s", packed, time.monotonic() - started)
    await redis.config_set(AOF_REWRITE, redis_text(setting))
    await redis.delete(SETTING_KEY)
    await rewrite_aof(redis)
    return True


async def rewrite_aof(redis: Redis) -> None:
    """Starts an AOF rewrite (if Redis keeps an AOF and none runs): the files shrink to what Redis holds now."""
    if await _setting(redis, "appendonly") == "yes":
        with contextlib.suppress(ResponseError):  # one is running already
            await redis.bgrewriteaof()


# (release messages processed by the worker's consumer group, release messages still to go)
Progress = Callable[[], Awaitable[tuple[int, int]]]


class BacklogPause:
    """An index worker's part, called every BACKLOG_LOOK_S: it holds the pause while its consumer group has a bulk
    build's worth of releases to go (a first full ingest, a month's changes, a reindex), and lets go once fewer than
    a tenth of that are left. Letting go, or looking while not holding, also settles the holds of processes killed
    while they held."""

    def __init__(self, pause: RewritePause, progress: Progress, hold_from: int) -> None:
        self._pause = pause
        self._progress = progress
        self._hold_from = hold_from
        self._holding = False

    async def follow(self) -> None:
        try:
            _, to_go = await self._progress()
            self._holding = to_go >= (self._hold_from // 10 if self._holding else self._hold_from)
            if self._holding:
                await self._pause.hold()
            else:
                await self._pause.release()
        except Exception:  # the pause is a precaution: the worker's writes go on without it
            log.warning("could not hold or release AOF rewrites for the index worker's backlog", exc_info=True)


async def release_holders(redis: Redis, prefix: str) -> None:
    """Lets go of every hold whose holder starts with prefix (a reindex's workers, stopped once it caught up), then
    settles."""
    holders = [redis_text(h) for h in await redis.zrange(HOLDERS_KEY, 0, -1)]
    gone = [h for h in holders if h.startswith(prefix)]
    if gone:
        await redis.zrem(HOLDERS_KEY, *gone)
    await settle(redis)
