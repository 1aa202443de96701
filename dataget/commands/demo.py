"""`dataget demo`: a generated dump through the whole pipeline, then the site on http://127.0.0.1:8080.

Without an OAuth client of its own (DATAGET_OAUTH_CLIENT_ID/_SECRET unset) the site signs in and builds playlists
on local stand-ins of Google's sign-in and the YouTube Data API, and says so on the page."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType

from dataget.commands.web import serve
from dataget.stack.process import stop_children
from dataget.standins.oidc import FakeOIDC
from dataget.standins.youtube import FakeYouTube
from dataget.synth.dump_set import write_dump_set
from runtime.local_secrets import with_local_secrets
from runtime.settings import Settings, settings_env

DEMO_USER = {"sub": "demo", "email": "demo@dataget.invalid", "name": "demo user"}


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


def oauth_configured(env: Mapping[str, str]) -> bool:
    """Whether the operator gave the site an OAuth client of its own (then Google and YouTube are the real ones).
    The settings' local placeholders are none: a parent passing its settings on (settings_env) exports them."""
    defaults = Settings()
    placeholders = {"DATAGET_OAUTH_CLIENT_ID": defaults.oauth_client_id,
                    "DATAGET_OAUTH_CLIENT_SECRET": defaults.oauth_client_secret}
    return any(env.get(var) not in (None, "", placeholder) for var, placeholder in placeholders.items())


@contextlib.contextmanager
def stand_ins(settings: Settings) -> Iterator[Settings]:
    """The settings of a site and YouTube worker that sign in and build playlists on local stand-ins of Google and
    YouTube (started here, on free loopback ports, until the block ends); the site shows the demo banner."""
    oidc = FakeOIDC(client_id=settings.oauth_client_id, client_secret=settings.oauth_client_secret,
                    user=dict(DEMO_USER), consent_page=True)
    # The synthetic dump's video ids are made up: every well-formed one is a video on the stand-in.
    with oidc, FakeYouTube(any_video=True, token_validator=oidc.is_valid_access_token) as youtube:
        yield settings.with_(demo=True, **oidc.settings_overrides(),
                             **youtube.settings_overrides(with_token_endpoint=False))


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings = with_local_secrets(settings)
    dumps = write_dump_set(args.out, args.releases)
    dataget = str(Path(sys.executable).with_name("dataget"))
    logs = Path(settings.stack_dir) / "logs"
    signal.signal(signal.SIGTERM, _interrupt)
    children: list[subprocess.Popen] = []
    with contextlib.ExitStack() as google:
        if not oauth_configured(os.environ):
            settings = google.enter_context(stand_ins(settings))
        env = {**os.environ, **settings_env(settings)}
        try:
            children.append(_spawn([dataget, "worker"], env, logs / "demo-worker.log"))
            children.append(_spawn([dataget, "youtube-worker"], env, logs / "demo-youtube-worker.log"))
            files = [str(dumps.releases), str(dumps.masters), str(dumps.artists), str(dumps.labels)]
            children.append(ingest := subprocess.Popen([dataget, "ingest", *files, "--wait"], env=env))
            if ingest.wait() != 0:
                raise subprocess.CalledProcessError(ingest.returncode, ingest.args)
            where = "local stand-ins of Google sign-in and YouTube" if settings.demo else "Google and YouTube"
            print(f"\nDataget demo: open {settings.public_base_url} (sign-in and playlists on {where}; worker logs "
                  f"in {logs}); Ctrl-C stops it.\n")
            # In this process: the stand-ins run here, and no other process's settings say "demo".
            serve(settings, settings.web_host, settings.web_port, reuse_port=False)
            return 0
        except KeyboardInterrupt:
            return 0
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the stopping short
            stop_children(children)
