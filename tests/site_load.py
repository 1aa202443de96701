"""`dataget web` on the real stack under a steady load from a client thread, every answer recorded, for the fault
tests: what the site answered while a server behind it was down, and when it answered again."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from dataget.stack.process import free_port, stop_children
from runtime.settings import Settings, settings_env
from tests.site_process import wait_until_answering

# What a request needs behind the site: the index's Redis, or Mongo (a release's document).
INDEX, RECORD = "index", "record"
# Seconds a request may take: longer than the site's own 5 s server timeouts, so a hung site shows as no answer.
REQUEST_TIMEOUT_S = 15


@dataclass(frozen=True)
class Answer:
    sent: float  # time.monotonic() when the request was sent
    answered: float  # and when its answer (or the failure) came
    kind: str  # INDEX or RECORD
    path: str
    status: int  # 0: no HTTP answer (refused, reset, timed out)
    retry_after: str | None


@contextmanager
def running_site(dataget_bin: Path, settings: Settings, log: Path) -> Iterator[str]:
    """`dataget web` on a free port and settings' servers; yields its base URL once it answers. On leaving it must
    still be running (whatever happened behind it, it recovers by itself) and is then stopped."""
    port = free_port()
    env = {**os.environ, **settings_env(settings)}
    with log.open("ab") as out:
        site = subprocess.Popen([str(dataget_bin), "web", "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(site, f"{url}/api/v1/facets/genre", timeout=60)
        yield url
        assert site.poll() is None, f"the site exited with {site.returncode}: {log.read_text()[-3000:]}"
    finally:
        stop_children([site])


def get(url: str) -> tuple[int, str | None]:
    """The status of a GET and its Retry-After header; status 0 when no HTTP answer came."""
    try:
        with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT_S) as response:
            response.read()
            return response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Retry-After")
    except OSError:
        return 0, None


class SiteLoad:
    """A client thread sending the site a steady mix, one request at a time: a facet query and facet values (the
    index's Redis) and, once `release_id` is set, a release (Mongo). Every answer lands in `answers`."""

    def __init__(self, base_url: str, genre: str, pause: float = 0.1) -> None:
        self.answers: list[Answer] = []
        self.release_id: int | None = None
        self._paths = [(INDEX, f"/api/v1/query?{urlencode({'genre': genre, 'limit': 5})}"),
                       (INDEX, "/api/v1/facets/genre?limit=10")]
        self._base_url = base_url
        self._pause = pause
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="site-load", daemon=True)

    def __enter__(self) -> SiteLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            paths = list(self._paths)
            if self.release_id is not None:
                paths.append((RECORD, f"/api/v1/releases/{self.release_id}"))
            for kind, path in paths:
                sent = time.monotonic()
                status, retry_after = get(self._base_url + path)
                self.answers.append(Answer(sent, time.monotonic(), kind, path, status, retry_after))
            self._stop.wait(self._pause)


def failures(answers: Sequence[Answer]) -> list[Answer]:
    """Answers a site must never give, whatever is down behind it: a 5xx other than a 503 with Retry-After, or
    none at all."""
    return [a for a in answers
            if a.status == 0 or (a.status >= 500 and not (a.status == 503 and a.retry_after is not None))]


def unavailable(answers: Sequence[Answer], kinds: Sequence[str], since: float, until: float) -> list[Answer]:
    """The 503s to requests of kinds sent between since and until."""
    return [a for a in answers if a.kind in kinds and since <= a.sent < until and a.status == 503]


def back_at(answers: Sequence[Answer], kinds: Sequence[str], since: float) -> float | None:
    """When the first 200 came to a request of kinds sent after since and after the last refusal (5xx, none) of
    such a request: the site answering again; None if it never did."""
    ours = [a for a in answers if a.kind in kinds and a.sent >= since]
    refused = [a.sent for a in ours if a.status == 0 or a.status >= 500]
    after = max(refused, default=since)
    return next((a.answered for a in ours if a.status == 200 and a.sent >= after), None)
