"""Start, probe and stop one long-running server process, tracked by a pid file so any CLI call finds it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class StackError(RuntimeError):
    """A server could not be built, started or reached."""


@dataclass(frozen=True)
class ServerProcess:
    name: str
    pid_file: Path
    log_file: Path

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def start(self, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        # Log to a file: an unread pipe blocks a chatty server after ~64 KB.
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, env=env, cwd=cwd,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout: float = 20.0) -> bool:
        """SIGTERM the process group, SIGKILL after the timeout; True if something was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            _signal_group(pid, signal.SIGKILL)
            _wait_gone(pid, 5.0)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> int | None:
        """SIGKILL the process group, as a crash would (the fault tests), and wait until it is gone, reaped if it is
        our child, so `pid()` and a restart no longer see it. The pid file stays, as after a crash. Returns the pid
        killed, None if nothing was running."""
        pid = self.pid()
        if pid is None:
            return None
        _signal_group(pid, signal.SIGKILL)
        if not _wait_gone(pid, 10.0):
            raise StackError(f"{self.name} (pid {pid}) is still there 10 s after SIGKILL")
        return pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def wait_ready(self, probe: Callable[[], bool], timeout: float,
                   loading: Callable[[], bool] | None = None) -> None:
        """Poll a real protocol request until it succeeds; fail fast with the log tail if the process died.
        While `loading` says the server is loading its data, the timeout does not run out."""
        deadline = time.monotonic() + timeout
        while True:
            if self.pid() is None:
                raise StackError(f"{self.name} exited during start-up; log tail:\n{self.log_tail()}")
            if probe():
                return
            if time.monotonic() > deadline and not (loading and loading()):
                raise StackError(f"{self.name} did not answer within {timeout:.0f}s; log tail:\n{self.log_tail()}")
            time.sleep(0.3)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(os.getpgid(pid), sig)
    except ProcessLookupError:
        pass


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # Reap it if it is our child (tests start servers in-process); otherwise just probe.
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def stop_children(children: Sequence[subprocess.Popen], timeout: float = 30.0) -> None:
    """SIGTERM to each child still running, then wait for each (SIGKILL after `timeout` s)."""
    for proc in children:
        if proc.poll() is None:
            proc.terminate()
    for proc in children:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it), for servers started by benchmarks and tests."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) != 0
