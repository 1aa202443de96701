"""`dataget worker` run as an operator runs it, for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runtime.settings import Settings, settings_env


def start_worker(dataget_bin: Path, settings: Settings, log: Path) -> subprocess.Popen:
    """The worker on settings' servers, its output appended to log."""
    env = {**os.environ, **settings_env(settings)}
    with log.open("ab") as out:
        return subprocess.Popen([str(dataget_bin), "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)


@contextmanager
def running_worker(dataget_bin: Path, settings: Settings, log: Path) -> Iterator[subprocess.Popen]:
    """The worker on settings' servers, its output in log; terminated (and waited for) on leaving."""
    proc = start_worker(dataget_bin, settings, log)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)
