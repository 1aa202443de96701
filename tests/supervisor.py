"""Long-running commands kept running as a process supervisor would (systemd's `Restart=always`), for the fault
tests: one that exits on its own (its server died) is started again at once and its exit is counted."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from dataget.stack.process import stop_children

Starter = Callable[[], subprocess.Popen]
# Seconds between looks at the supervised processes.
POLL_S = 0.5


@dataclass(frozen=True)
class Exit:
    name: str
    code: int


@dataclass
class Supervisor:
    """Supervised commands by name; `exits` are those they made on their own, each followed by a restart."""

    exits: list[Exit] = field(default_factory=list)
    _running: dict[str, tuple[Starter, subprocess.Popen]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, name: str, starter: Starter) -> subprocess.Popen:
        """Start the command and keep it running."""
        with self._lock:
            proc = starter()
            self._running[name] = (starter, proc)
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
            self._thread.start()
        return proc

    def kill(self, name: str) -> None:
        """SIGKILL the command, as a crash would, and stop supervising it (until `start` again)."""
        with self._lock:
            _, proc = self._running.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def close(self) -> None:
        """Stop supervising and stop every command (SIGTERM, then SIGKILL after 60 s)."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            procs = [proc for _, proc in self._running.values()]
            self._running.clear()
        stop_children(procs, timeout=60)

    def _watch(self) -> None:
        while not self._closed.wait(POLL_S):
            with self._lock:
                for name, (starter, proc) in list(self._running.items()):
                    code = proc.poll()
                    if code is not None:
                        self.exits.append(Exit(name, code))
                        self._running[name] = (starter, starter())
