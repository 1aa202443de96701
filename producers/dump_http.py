"""HTTP to the dump site with the manners it asks for: a descriptive User-Agent, 429 Retry-After, 5xx backoff.

The site has no Range support, so a transfer that breaks restarts its file from the first byte.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import PackageNotFoundError, version
from typing import TypeVar

import httpx

log = logging.getLogger(__name__)
T = TypeVar("T")


class DumpSiteError(Exception):
    """A file could not be fetched or verified; the message names the file and the reason."""


class NotFound(DumpSiteError):
    """The site answered 404: for a CHECKSUM, the dump is not complete (or not there)."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # per request, counting the first
    backoff_first: float = 5.0  # seconds, doubled each retry
    backoff_max: float = 600.0
    retry_after_max: float = 3600.0  # Discogs may ask to wait about an hour; never longer

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max, self.backoff_first * 2.0 ** (attempt - 1))


def user_agent() -> str:
    try:
        release = version("discogs-dataget")
    except PackageNotFoundError:
        release = "dev"
    return f"discogs-dataget/{release} (monthly Discogs data dump mirror; python-httpx/{httpx.__version__})"


def open_client() -> httpx.Client:
    # Downloads may redirect to storage; a read timeout only fires when no byte arrives for a minute.
    return httpx.Client(
        headers={"User-Agent": user_agent()},
        follow_redirects=True,
        timeout=httpx.Timeout(60.0, connect=30.0),
    )


def retry_after_seconds(value: str | None, now: datetime, cap: float) -> float | None:
    """Seconds asked for by a Retry-After header (delta or HTTP date), capped; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), cap)


class Fetcher:
    """GETs with retries; `consume` reads the streamed 200 response, and a transfer error inside it retries too."""

    def __init__(
        self,
        client: httpx.Client,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.policy = policy or RetryPolicy()
        self.sleep = sleep or time.sleep  # tests pass their own, so nobody waits an hour
        self.now = now or (lambda: datetime.now(UTC))

    def fetch(
        self, url: str, label: str, consume: Callable[[httpx.Response], T], headers: dict[str, str] | None = None
    ) -> T:
        policy = self.policy
        reason = ""
        for attempt in range(1, policy.attempts + 1):
            wait = policy.backoff(attempt)
            try:
                with self.client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    if status == 200:
                        return consume(response)
                    if status == 404:
                        raise NotFound(f"{label}: not found (HTTP 404 from {url})")
                    if status == 429:
                        asked = retry_after_seconds(response.headers.get("Retry-After"), self.now(),
                                                    policy.retry_after_max)
                        wait = wait if asked is None else asked
                        reason = "rate limited (HTTP 429)"
                    elif status >= 500:
                        reason = f"server error (HTTP {status})"
                    else:
                        raise DumpSiteError(f"{label}: HTTP {status} from {url}")
            except httpx.TransportError as exc:
                reason = f"transfer failed ({type(exc).__name__}: {exc})"
            if attempt < policy.attempts:
                log.warning("%s: %s; attempt %d/%d in %.0f s", label, reason, attempt + 1, policy.attempts, wait)
                self.sleep(wait)
        raise DumpSiteError(f"{label}: gave up after {policy.attempts} attempts; last: {reason}")

    def text(self, url: str, label: str) -> str:
        return self.fetch(url, label, lambda response: response.read().decode("utf-8", errors="replace"))
