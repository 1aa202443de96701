"""Waiting for a started server: a server still loading its data gets past the timeout, a silent one does not."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataget.stack.process import ServerProcess, StackError, stop_children


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess("sleeper", tmp_path / "sleeper.pid", tmp_path / "sleeper.log")
    proc.start([sys.executable, "-c", "import time; time.sleep(30)"])
    yield proc
    proc.stop(timeout=1)


class Probe:
    """A protocol request that succeeds from its `answers_from`-th call on; counts its calls."""

    def __init__(self, answers_from: int) -> None:
        self.answers_from = answers_from
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls >= self.answers_from


def test_a_server_loading_its_data_is_waited_for_past_the_timeout(server: ServerProcess) -> None:
    probe, loading = Probe(answers_from=4), Probe(answers_from=1)
    # A timeout that has run out before the first poll: only "still loading" keeps the wait going.
    server.wait_ready(probe, timeout=-1, loading=loading)
    assert (probe.calls, loading.calls) == (4, 3)


def test_a_server_that_neither_answers_nor_loads_times_out(server: ServerProcess) -> None:
    probe = Probe(answers_from=4)
    with pytest.raises(StackError, match="did not answer within"):
        server.wait_ready(probe, timeout=-1, loading=lambda: False)
    assert probe.calls == 1


def test_kill_ends_the_server_at_once_and_reaps_it(server: ServerProcess) -> None:
    pid = server.pid()
    assert pid is not None and server.kill() == pid
    # Reaped: no zombie keeps pid() answering, so a restart starts a new process; the pid file stays, as after a crash.
    assert server.pid() is None and server.pid_file.exists()
    assert server.kill() is None


def test_stop_children_terminates_and_kills_one_that_ignores_sigterm() -> None:
    ignores = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(60)"
    stubborn = subprocess.Popen([sys.executable, "-c", ignores], stdout=subprocess.PIPE)
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert stubborn.stdout is not None
    stubborn.stdout.readline()  # its SIGTERM handler is in place
    stubborn.stdout.close()
    stop_children([stubborn, polite, done], timeout=0.5)
    assert (stubborn.returncode, polite.returncode, done.returncode) == (-signal.SIGKILL, -signal.SIGTERM, 0)
