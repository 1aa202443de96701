"""The few YouTube Data API v3 calls a playlist job needs, with error mapping and retries.

google-api-python-client is blocking: each call runs in a thread via `asyncio.to_thread`. A `YouTube` object belongs
to one job and is used by one call at a time, so its single httplib2.Http is never shared between threads at once.
Every attempt first awaits `before_attempt(method)` so the caller can book quota units (even failed requests cost).
"""

from __future__ import annotations

import asyncio
import enum
import http.client
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest

from runtime.settings import Settings
from stream_processors.youtube.jobs import MAX_PLAYLIST_ITEMS, RECONNECT_MESSAGE

YOUTUBE_SCOPE = "https://www.googleapis.com/auth/youtube"
MAX_ATTEMPTS = 10
MAX_BACKOFF = 64.0
RETRY_STATUSES = (500, 502, 503, 504)
TRANSPORT_ERRORS = (httplib2.HttpLib2Error, OSError, http.client.HTTPException, TransportError)

BeforeAttempt = Callable[[str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class Outcome(enum.Enum):
    RETRY = "retry"  # transient: back off and try again
    QUOTA = "quota"  # daily quota gone: park the job until Pacific midnight
    SKIP = "skip"  # this video can't be added: skip it
    DUPLICATE = "duplicate"  # the video is already in the playlist: success
    FAIL = "fail"  # the job cannot go on


class YouTubeError(Exception):
    def __init__(self, outcome: Outcome, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.outcome = outcome
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after: float | None = None


_OUTCOMES: Mapping[str, Outcome] = {
    "quotaExceeded": Outcome.QUOTA,
    "dailyLimitExceeded": Outcome.QUOTA,
    "rateLimitExceeded": Outcome.RETRY,
    "userRateLimitExceeded": Outcome.RETRY,
    "videoNotFound": Outcome.SKIP,
    "failedPrecondition": Outcome.SKIP,
    "videoAlreadyInPlaylist": Outcome.DUPLICATE,
}
_FAIL_MESSAGES: Mapping[str, str] = {
    "playlistNotFound": "the playlist was deleted on YouTube while it was being filled",
    "playlistContainsMaximumNumberOfVideos": f"the playlist reached YouTube's limit of {MAX_PLAYLIST_ITEMS} videos",
    "maxPlaylistExceeded": "your YouTube channel cannot hold more playlists",
    "playlistOperationUnsupported": "YouTube does not allow adding videos to this playlist",
    "insufficientPermissions": RECONNECT_MESSAGE,
    "forbidden": RECONNECT_MESSAGE,
    "playlistItemsNotAccessible": RECONNECT_MESSAGE,
    "authError": RECONNECT_MESSAGE,
}


def classify(status: int, reason: str, message: str) -> Outcome:
    """What to do about an API error."""
    if status == 429 and "per day" in message.lower():
        return Outcome.QUOTA  # the per-day bucket of a "Quota exceeded for quota metric" 429
    if reason in _OUTCOMES:
        return _OUTCOMES[reason]
    if status == 401 or reason in _FAIL_MESSAGES:
        return Outcome.FAIL
    if status in RETRY_STATUSES or status == 429 or status == 409:
        return Outcome.RETRY  # 409 ABORTED comes from concurrent writes: transient
    return Outcome.FAIL


def error_from_http(exc: HttpError) -> YouTubeError:
    details: list[Any] = exc.error_details if isinstance(exc.error_details, list) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    reason = str(first.get("reason", ""))
    status = int(exc.status_code)
    outcome = classify(status, reason, exc.reason)
    message = RECONNECT_MESSAGE if status == 401 else _FAIL_MESSAGES.get(reason, exc.reason or f"HTTP {status}")
    error = YouTubeError(outcome, status, reason, message)
    retry_after = exc.resp.get("retry-after") if hasattr(exc.resp, "get") else None
    if retry_after is not None and str(retry_after).isdigit():
        error.retry_after = float(retry_after)
    return error


def backoff(attempt: int, retry_after: float | None, rand: Callable[[], float] = random.random) -> float:
    """Seconds before retry number `attempt` (0-based): Retry-After when given, else random() * 2**attempt."""
    if retry_after is not None:
        return retry_after
    return min(MAX_BACKOFF, rand() * 2.0**attempt)


async def call(
    request: HttpRequest,
    method: str,
    *,
    before_attempt: BeforeAttempt,
    sleep: Sleep,
    rand: Callable[[], float] = random.random,
    max_attempts: int = MAX_ATTEMPTS,
) -> dict[str, Any]:
    """Execute `request`, retrying 5xx and rate limits with backoff (Retry-After first); raises YouTubeError otherwise.

    `num_retries=0`: the library's own retry would also repeat inserts blindly and ignore Retry-After.
    """
    attempts = 0
    while True:
        await before_attempt(method)
        attempts += 1
        try:
            return await asyncio.to_thread(request.execute, num_retries=0)
        except HttpError as exc:
            error = error_from_http(exc)
        except RefreshError as exc:
            raise YouTubeError(Outcome.FAIL, 401, "invalid_grant", RECONNECT_MESSAGE) from exc
        except TRANSPORT_ERRORS as exc:
            error = YouTubeError(Outcome.RETRY, 0, "transport", f"{type(exc).__name__}: {exc}")
        if error.outcome is not Outcome.RETRY:
            raise error
        if attempts == max_attempts:
            error.outcome = Outcome.FAIL  # give up with what YouTube said last
            raise error
        await sleep(backoff(attempts - 1, error.retry_after, rand))


def credentials_from_token(token: Mapping[str, Any], settings: Settings) -> Credentials:
    """Credentials of the stored Authlib token; built directly so `token_uri` stays the configured one."""
    expires_at = token.get("expires_at")
    expiry = None if expires_at is None else datetime.fromtimestamp(float(expires_at), UTC).replace(tzinfo=None)
    scope = token.get("scope")
    return Credentials(
        token=token.get("access_token"),
        refresh_token=token.get("refresh_token"),
        token_uri=settings.oauth_token_url,
        client_id=settings.oauth_client_id,
        client_secret=settings.oauth_client_secret,
        scopes=scope.split() if isinstance(scope, str) and scope else [YOUTUBE_SCOPE],
        expiry=expiry,
    )


def rotated_token(creds: Credentials, stored: Mapping[str, Any]) -> dict[str, Any] | None:
    """The token to store after a job if google-auth refreshed it, else None."""
    if not creds.token or creds.token == stored.get("access_token"):
        return None
    token: dict[str, Any] = {"access_token": creds.token, "token_type": "Bearer"}
    if creds.expiry is not None:
        token["expires_at"] = int(creds.expiry.replace(tzinfo=UTC).timestamp())
    if creds.refresh_token and creds.refresh_token != stored.get("refresh_token"):
        token["refresh_token"] = creds.refresh_token
    return token


class YouTube:
    """One job's API client; build it with `await YouTube.connect(...)` (discovery parsing blocks)."""

    def __init__(self, service: Any, before_attempt: BeforeAttempt, sleep: Sleep) -> None:
        self._service = service
        self._before_attempt = before_attempt
        self._sleep = sleep

    @classmethod
    async def connect(cls, creds: Credentials, endpoint: str, before_attempt: BeforeAttempt, sleep: Sleep) -> YouTube:
        def make() -> Any:
            return build(
                "youtube", "v3", credentials=creds, static_discovery=True, cache_discovery=False,
                client_options={"api_endpoint": endpoint},
            )

        return cls(await asyncio.to_thread(make), before_attempt, sleep)

    async def _call(self, request: HttpRequest, method: str) -> dict[str, Any]:
        return await call(request, method, before_attempt=self._before_attempt, sleep=self._sleep)

    async def videos(self, ids: list[str]) -> list[dict[str, Any]]:
        """Resources of the existing videos among `ids` (at most 50); missing and private ones are absent."""
        request = self._service.videos().list(part="status", id=",".join(ids), maxResults=len(ids))
        found: list[dict[str, Any]] = (await self._call(request, "videos.list")).get("items", [])
        return found

    async def create_playlist(self, title: str, privacy: str) -> str:
        body = {"snippet": {"title": title}, "status": {"privacyStatus": privacy}}
        request = self._service.playlists().insert(part="snippet,status", body=body)
        playlist_id: str = (await self._call(request, "playlists.insert"))["id"]
        return playlist_id

    async def add_video(self, playlist_id: str, video_id: str) -> None:
        """Append (no position: manual sorting would be required) one video."""
        body = {"snippet": {"playlistId": playlist_id, "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
        await self._call(self._service.playlistItems().insert(part="snippet", body=body), "playlistItems.insert")

    async def playlist_video_ids(self, playlist_id: str) -> list[str]:
        ids: list[str] = []
        page: str | None = None
        while True:
            request = self._service.playlistItems().list(
                part="snippet", playlistId=playlist_id, maxResults=50, pageToken=page
            )
            response = await self._call(request, "playlistItems.list")
            ids += [item["snippet"]["resourceId"]["videoId"] for item in response.get("items", [])]
            page = response.get("nextPageToken")
            if not page:
                return ids
