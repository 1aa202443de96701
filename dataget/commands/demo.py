"""`dataget demo`: a generated dump through the whole pipeline, then the site on http://127.0.0.1:8080."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

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


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings = with_local_secrets(settings)
    dumps = write_dump_set(args.out, args.releases)
    dataget = str(Path(sys.executable).with_name("dataget"))
    env = {**os.environ, **settings_env(settings)}
    logs = Path(settings.stack_dir) / "logs"
    workers = [
        _spawn([dataget, "worker"], env, logs / "demo-worker.log"),
        _spawn([dataget, "youtube-worker"], env, logs / "demo-youtube-worker.log"),
    ]
    try:
        files = [str(dumps.releases), str(dumps.masters), str(dumps.artists), str(dumps.labels)]
        subprocess.run([dataget, "ingest", *files, "--wait"], env=env, check=True)
        print(f"\nDataget demo: open {settings.public_base_url} (worker logs in {logs}); Ctrl-C stops it.\n")
        return subprocess.run([dataget, "web"], env=env).returncode
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            proc.wait(timeout=30)
