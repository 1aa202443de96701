"""`dataget demo` stopped with SIGTERM (a service manager, `kill`) stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from dataget.stack.process import free_port
from runtime.settings import Settings, settings_env


@pytest.mark.slow  # about a minute: a dump through the whole pipeline first
@pytest.mark.stack
def test_sigterm_leaves_no_worker_site_or_youtube_worker_behind(
        dataget_bin: Path, isolated_settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    settings = isolated_settings.with_(web_port=port, public_base_url=f"http://127.0.0.1:{port}",
                                       stack_dir=tmp_path / "stack")
    env = {**os.environ, **settings_env(settings)}
    demo = subprocess.Popen([str(dataget_bin), "demo", "--releases", "40", "--out", str(tmp_path / "dumps")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while True:  # until the site answers: worker, youtube-worker and web all run
            assert demo.poll() is None, demo.stderr.read().decode() if demo.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/me", timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the demo's site did not answer"
                time.sleep(0.5)
        started = psutil.Process(demo.pid).children(recursive=True)
        commands = {" ".join(p.cmdline()[1:3]) for p in started}
        assert any("worker" in c and "youtube" not in c for c in commands) and any("youtube-worker" in c for c in
                                                                                   commands)
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) == 0
        gone, alive = psutil.wait_procs(started, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        for proc in psutil.Process(demo.pid).children(recursive=True) if demo.poll() is None else ():
            proc.kill()
        demo.kill()
