"""Latest playlist-job snapshots of this process and their fan-out to subscribed websockets (pure asyncio)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import cast

from schemas.playlist_jobs import FINAL_STATES, StatusSnapshot

log = logging.getLogger(__name__)

QUEUE_SIZE = 8
# A finished job's snapshot stays in memory this long (seconds), for the page that watched it; later its status is
# read from the store (the worker's record of the job).
FINISHED_RETENTION_S = 600.0
# Open status sockets: one user's (a few tabs), and the whole process' (each holds a queue and a task).
MAX_SOCKETS_PER_USER = 8
MAX_SOCKETS = 2000


class TooManySockets(Exception):
    """A socket limit is reached; the message is safe to show."""


def is_terminal(snapshot: StatusSnapshot) -> bool:
    return snapshot.get("state") in FINAL_STATES


class Subscription:
    """One socket's bounded queue; a slow reader loses intermediate snapshots, never the latest."""

    def __init__(self, job_id: str, since: int = -1, maxsize: int = QUEUE_SIZE, user_id: str = "") -> None:
        self.job_id = job_id
        self.user_id = user_id
        self._last_seq = since
        # None is the "server is going away" marker.
        self._queue: asyncio.Queue[StatusSnapshot | None] = asyncio.Queue(maxsize)

    def offer(self, snapshot: StatusSnapshot | None) -> None:
        if snapshot is not None:
            if snapshot["seq"] <= self._last_seq:
                return
            self._last_seq = snapshot["seq"]
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(snapshot)

    async def get(self) -> StatusSnapshot | None:
        return await self._queue.get()


def _finished_at(snapshot: StatusSnapshot, now: float) -> float:
    """When a terminal snapshot's job ended (its updated_at), or now when that is unreadable."""
    try:
        return datetime.fromisoformat(str(snapshot.get("updated_at"))).timestamp()
    except ValueError:
        return now


class StatusHub:
    def __init__(self, clock: Callable[[], float] = time.time, finished_retention_s: float = FINISHED_RETENTION_S,
                 max_sockets: int = MAX_SOCKETS, max_sockets_per_user: int = MAX_SOCKETS_PER_USER) -> None:
        self._latest: dict[str, StatusSnapshot] = {}
        self._subs: defaultdict[str, set[Subscription]] = defaultdict(set)
        self._clock = clock
        self._retention = finished_retention_s
        # Finished jobs in the order their end became known, with when they ended (wall clock).
        self._finished: OrderedDict[str, float] = OrderedDict()
        self._max_sockets, self._max_per_user = max_sockets, max_sockets_per_user
        self._sockets = 0
        self._per_user: Counter[str] = Counter()

    def apply(self, snapshot: object) -> bool:
        """Take a snapshot from the status topic; False when it is malformed or older than what is known."""
        if not (
            isinstance(snapshot, dict)
            and isinstance(snapshot.get("job_id"), str)
            and isinstance(snapshot.get("seq"), int)
        ):
            log.warning("ignoring malformed status snapshot")
            return False
        # The worker publishes StatusSnapshots; the hub itself relies on the two fields checked above.
        valid = cast(StatusSnapshot, snapshot)
        job_id = valid["job_id"]
        known = self._latest.get(job_id)
        if known is not None and known["seq"] >= valid["seq"]:
            return False
        for sub in self._subs.get(job_id, ()):
            sub.offer(valid)
        now = self._clock()
        self._drop_finished(now)
        if is_terminal(valid):
            ended = _finished_at(valid, now)
            if ended + self._retention <= now:  # long over (the status topic is read from its start): not kept
                self._latest.pop(job_id, None)
                return True
            self._finished[job_id] = ended
        self._latest[job_id] = valid
        return True

    def _drop_finished(self, now: float) -> None:
        while self._finished:
            job_id, ended = next(iter(self._finished.items()))
            if ended + self._retention > now:
                return
            del self._finished[job_id]
            self._latest.pop(job_id, None)

    def latest(self, job_id: str) -> StatusSnapshot | None:
        return self._latest.get(job_id)

    def subscribe(self, job_id: str, since: int = -1, user_id: str = "") -> Subscription:
        """Register a subscriber; it gets the latest snapshot (if newer than `since`) right away.

        Raises TooManySockets when the user or the process has as many as allowed.
        """
        if self._per_user[user_id] >= self._max_per_user:
            raise TooManySockets(f"at most {self._max_per_user} open status sockets per user")
        if self._sockets >= self._max_sockets:
            raise TooManySockets("the site has too many open status sockets; try again later")
        sub = Subscription(job_id, since, user_id=user_id)
        self._subs[job_id].add(sub)
        self._sockets += 1
        self._per_user[user_id] += 1
        known = self._latest.get(job_id)
        if known is not None:
            sub.offer(known)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.job_id)
        if subs is None or sub not in subs:
            return
        subs.discard(sub)
        if not subs:
            del self._subs[sub.job_id]
        self._sockets -= 1
        self._per_user[sub.user_id] -= 1
        if not self._per_user[sub.user_id]:
            del self._per_user[sub.user_id]

    def close(self) -> None:
        """Tell every subscriber to stop (server shutdown)."""
        for subs in self._subs.values():
            for sub in subs:
                sub.offer(None)
