"""`dataget demo`: a generated dump through the whole pipeline, then the site on http://127.0.0.1:8080."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from dataget.synth.dump_set import write_dump_set
from runtime.local_secrets import with_local_secrets
from runtime.settings import Settings, settings_env


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="generate a sample dump, run the workers, ingest it and serve the site")
    parser.add_argument("--releases", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path("dumps/demo"))
    parser.set_defaults(func=run)


def _spawn(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as fh:
        return subprocess.Popen(argv, env=env, stdout=fh, stderr=subprocess.STDOUT)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the demo as Ctrl-C does: through the finally that stops its children


def _stop(children: list[subprocess.Popen]) -> None:
    """SIGTERM to each child still running, then wait for it (SIGKILL after 30 s)."""
    for proc in children:
        if proc.poll() is None:
            proc.terminate()
    for proc in children:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings = with_local_secrets(settings)
    dumps = write_dump_set(args.out, args.releases)
    dataget = str(Path(sys.executable).with_name("dataget"))
    env = {**os.environ, **settings_env(settings)}
    logs = Path(settings.stack_dir) / "logs"
    signal.signal(signal.SIGTERM, _interrupt)
    children: list[subprocess.Popen] = []
    try:
        children.append(_spawn([dataget, "worker"], env, logs / "demo-worker.log"))
        children.append(_spawn([dataget, "youtube-worker"], env, logs / "demo-youtube-worker.log"))
        files = [str(dumps.releases), str(dumps.masters), str(dumps.artists), str(dumps.labels)]
        children.append(ingest := subprocess.Popen([dataget, "ingest", *files, "--wait"], env=env))
        if ingest.wait() != 0:
            raise subprocess.CalledProcessError(ingest.returncode, ingest.args)
        print(f"\nDataget demo: open {settings.public_base_url} (worker logs in {logs}); Ctrl-C stops it.\n")
        children.append(site := subprocess.Popen([dataget, "web"], env=env))
        return site.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the stopping short
        _stop(children)
