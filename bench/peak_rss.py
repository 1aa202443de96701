"""Peak RSS of the processes in each role (ingest, its parser processes, workers, servers), sampled in a thread
while a benchmark runs: what a machine must hold at once, per process."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import psutil

Role = Callable[[], Sequence[psutil.Process]]


class PeakRss:
    """`with PeakRss({"worker": lambda: workers}) as peaks:` ... `peaks.peak["worker"]`: the largest RSS (bytes) any
    one process of the role had at a sample, every `interval` seconds; a role's processes are asked for at every
    sample, so it may name processes that start and end meanwhile (one ingest per dump file)."""

    def __init__(self, roles: dict[str, Role], interval: float = 0.5) -> None:
        self.roles, self.interval = roles, interval
        self.peak = dict.fromkeys(roles, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def sample(self) -> None:
        for role, processes in self.roles.items():
            for process in processes():
                try:
                    self.peak[role] = max(self.peak[role], process.memory_info().rss)
                except psutil.NoSuchProcess:
                    continue

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> PeakRss:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def children(process: Callable[[], psutil.Process | None]) -> Role:
    """The role of a process' descendants (an ingest's parser processes), whichever process it is at the time."""
    def found() -> list[psutil.Process]:
        parent = process()
        try:
            return parent.children(recursive=True) if parent is not None else []
        except psutil.NoSuchProcess:
            return []
    return found
