"""`dataget worker` run as an operator runs it, for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runtime.settings import Settings, settings_env


@contextmanager
def running_worker(dataget_bin: Path, settings: Settings, log: Path) -> Iterator[subprocess.Popen]:
    """The worker on settings' servers, its output in log; terminated (and waited for) on leaving."""
    env = {**os.environ, **settings_env(settings)}
    with log.open("wb") as out:
        proc = subprocess.Popen([str(dataget_bin), "worker"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)
