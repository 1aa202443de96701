"""`dataget demo`: on local stand-ins of Google and YouTube unless an OAuth client is configured (and `dataget web`
never is a demo); stopped with SIGTERM (a service manager, `kill`) it stops every process it started."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import psutil
import pytest
from aiohttp import web

from dataget import cli
from dataget.commands import demo
from dataget.stack.process import free_port
from runtime.settings import Settings, settings_env
from tests.site_process import wait_until_answering
from web.ports import CTX

GOOGLE = Settings()
OWN_CLIENT = {"DATAGET_OAUTH_CLIENT_ID": "123.apps.googleusercontent.com", "DATAGET_OAUTH_CLIENT_SECRET": "s3cret"}


def test_an_oauth_client_of_ones_own_means_google_itself():
    assert not demo.oauth_configured({})
    assert not demo.oauth_configured({"DATAGET_OAUTH_CLIENT_ID": "", "DATAGET_OAUTH_CLIENT_SECRET": ""})
    assert not demo.oauth_configured(settings_env(GOOGLE))  # the local placeholders
    assert demo.oauth_configured(OWN_CLIENT)


class _Exited:
    """A child process that did its job."""

    returncode = 0

    def wait(self, timeout: float | None = None) -> int:
        return 0

    def poll(self) -> int:
        return 0


@pytest.fixture
def run_demo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[], dict[str, Any]]:
    """`dataget demo` without its dump, processes and site: what the site is served with (its settings, and what
    the sign-in stand-in answers meanwhile) and the environment of the youtube-worker."""
    seen: dict[str, Any] = {}
    files = SimpleNamespace(releases="r", masters="m", artists="a", labels="l")
    monkeypatch.setattr(demo, "write_dump_set", lambda out, releases: files)

    def spawn(argv: list[str], env: dict[str, str], log: Path) -> _Exited:
        seen[argv[1]] = env  # by subcommand: worker, youtube-worker
        return _Exited()

    monkeypatch.setattr(demo, "_spawn", spawn)
    monkeypatch.setattr(demo.subprocess, "Popen", lambda argv, env: _Exited())
    monkeypatch.setattr(demo.signal, "signal", lambda signum, handler: None)

    def serve(settings: Settings, host: str, port: int, reuse_port: bool) -> None:
        seen["site"] = settings
        if settings.demo:
            query = {"client_id": settings.oauth_client_id, "response_type": "code", "redirect_uri": "http://x/cb",
                     "scope": "openid email"}
            with urllib.request.urlopen(f"{settings.oauth_authorize_url}?{urlencode(query)}", timeout=10) as page:
                seen["consent"] = page.read().decode()

    monkeypatch.setattr(demo, "serve", serve)
    settings = Settings(state_dir=tmp_path / "state", stack_dir=tmp_path / "stack")
    args = argparse.Namespace(out=tmp_path / "dumps", releases=10)
    return lambda: (demo.run(args, settings), seen)[1]


def test_without_an_oauth_client_the_demo_signs_in_and_builds_playlists_on_stand_ins(run_demo, monkeypatch):
    for var in OWN_CLIENT:
        monkeypatch.delenv(var, raising=False)
    seen = run_demo()
    site, worker = seen["site"], seen["youtube-worker"]
    assert site.demo
    for name in ("oauth_authorize_url", "oauth_token_url", "oauth_userinfo_url", "oauth_revoke_url", "oauth_issuer",
                 "youtube_api_endpoint"):
        assert getattr(site, name).startswith("http://127.0.0.1:"), name
    # The worker refreshes tokens and builds playlists where the site signed the user in.
    assert worker["DATAGET_OAUTH_TOKEN_URL"] == site.oauth_token_url
    assert worker["DATAGET_YOUTUBE_API_ENDPOINT"] == site.youtube_api_endpoint
    assert 'id="approve"' in seen["consent"] and "Sign in as demo user" in seen["consent"]


def test_with_an_oauth_client_the_demo_uses_google_and_youtube_and_shows_no_banner(run_demo, monkeypatch):
    for var, value in OWN_CLIENT.items():
        monkeypatch.setenv(var, value)
    seen = run_demo()
    site, worker = seen["site"], seen["youtube-worker"]
    assert not site.demo and "consent" not in seen
    assert (site.oauth_authorize_url, site.oauth_token_url, site.oauth_issuer, site.youtube_api_endpoint) == (
        GOOGLE.oauth_authorize_url, GOOGLE.oauth_token_url, GOOGLE.oauth_issuer, GOOGLE.youtube_api_endpoint)
    assert worker["DATAGET_YOUTUBE_API_ENDPOINT"] == GOOGLE.youtube_api_endpoint


def test_dataget_web_is_never_a_demo(monkeypatch, tmp_path):
    served: list[web.Application] = []
    monkeypatch.setattr(web, "run_app", lambda app, **_options: served.append(app))
    for var in OWN_CLIENT:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DATAGET_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("DATAGET_DEMO", "1")  # not a setting: nothing outside `dataget demo` turns it on
    assert cli.main(["web"]) == 0
    assert served[0][CTX].settings.demo is False


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
        # Once the site answers, worker, youtube-worker and web all run.
        wait_until_answering(demo, f"http://127.0.0.1:{port}/api/v1/me", timeout=240)
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
