"""Latest playlist-job snapshots of this process and their fan-out to subscribed websockets (pure asyncio)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import cast

from schemas.playlist_jobs import StatusSnapshot

log = logging.getLogger(__name__)

TERMINAL_STATES = ("done", "failed")
QUEUE_SIZE = 8


def is_terminal(snapshot: StatusSnapshot) -> bool:
    return snapshot.get("state") in TERMINAL_STATES


class Subscription:
    """One socket's bounded queue; a slow reader loses intermediate snapshots, never the latest."""

    def __init__(self, job_id: str, since: int = -1, maxsize: int = QUEUE_SIZE) -> None:
        self.job_id = job_id
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


class StatusHub:
    def __init__(self) -> None:
        self._latest: dict[str, StatusSnapshot] = {}
        self._subs: defaultdict[str, set[Subscription]] = defaultdict(set)

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
        self._latest[job_id] = valid
        for sub in self._subs.get(job_id, ()):
            sub.offer(valid)
        return True

    def latest(self, job_id: str) -> StatusSnapshot | None:
        return self._latest.get(job_id)

    def subscribe(self, job_id: str, since: int = -1) -> Subscription:
        """Register a subscriber; it gets the latest snapshot (if newer than `since`) right away."""
        sub = Subscription(job_id, since)
        self._subs[job_id].add(sub)
        known = self._latest.get(job_id)
        if known is not None:
            sub.offer(known)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.job_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.job_id]

    def close(self) -> None:
        """Tell every subscriber to stop (server shutdown)."""
        for subs in self._subs.values():
            for sub in subs:
                sub.offer(None)
