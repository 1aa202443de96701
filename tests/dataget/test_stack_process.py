"""Waiting for a started server: a server still loading its data gets past the timeout, a silent one does not."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataget.stack.process import ServerProcess, StackError


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess("sleeper", tmp_path / "sleeper.pid", tmp_path / "sleeper.log")
    proc.start([sys.executable, "-c", "import time; time.sleep(30)"])
    yield proc
    proc.stop(timeout=1)


def ready_after(seconds: float):
    ready_at = time.monotonic() + seconds
    return lambda: time.monotonic() >= ready_at


def test_a_server_loading_its_data_is_waited_for_past_the_timeout(server: ServerProcess) -> None:
    server.wait_ready(ready_after(1.0), timeout=0.2, loading=lambda: True)


def test_a_server_that_neither_answers_nor_loads_times_out(server: ServerProcess) -> None:
    with pytest.raises(StackError, match="did not answer within"):
        server.wait_ready(ready_after(1.0), timeout=0.2, loading=lambda: False)
