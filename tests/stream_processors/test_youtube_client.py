"""The API client against the stateful fake: error mapping, retries, quota booking, token refresh."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dataget.standins.youtube import FakeYouTube
from runtime.settings import Settings
from stream_processors.youtube.client import (
    MAX_ATTEMPTS,
    Outcome,
    YouTube,
    YouTubeError,
    backoff,
    classify,
    credentials_from_token,
    rotated_token,
)
from stream_processors.youtube.jobs import RECONNECT_MESSAGE

VALID = {"access_token": "ya29.valid", "refresh_token": "1//refresh", "expires_at": time.time() + 3600,
         "token_type": "Bearer", "scope": "openid https://www.googleapis.com/auth/youtube"}


@pytest.fixture
def fake() -> Iterator[FakeYouTube]:
    with FakeYouTube(videos=[f"v{n}" for n in range(120)]) as fake:
        yield fake


class Recorder:
    """Stands in for both the quota booking hook and the backoff sleep."""

    def __init__(self) -> None:
        self.booked: list[str] = []
        self.slept: list[float] = []

    async def book(self, method: str) -> None:
        self.booked.append(method)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


async def connect(fake: FakeYouTube, rec: Recorder, token: dict[str, object] = VALID) -> tuple[YouTube, object]:
    settings = Settings().with_(**fake.settings_overrides())
    creds = credentials_from_token(token, settings)
    return await YouTube.connect(creds, settings.youtube_api_endpoint, rec.book, rec.sleep), creds


@pytest.mark.parametrize(
    ("status", "reason", "message", "outcome"),
    [
        (403, "quotaExceeded", "", Outcome.QUOTA),
        (403, "dailyLimitExceeded", "", Outcome.QUOTA),
        (429, "rateLimitExceeded", "Quota exceeded for quota metric 'Queries' and limit 'Queries per day'",
         Outcome.QUOTA),
        (429, "rateLimitExceeded", "Quota exceeded for quota metric 'Queries per minute'", Outcome.RETRY),
        (403, "userRateLimitExceeded", "", Outcome.RETRY),
        (503, "backendError", "", Outcome.RETRY),
        (409, "aborted", "", Outcome.RETRY),
        (409, "videoAlreadyInPlaylist", "", Outcome.DUPLICATE),
        (404, "videoNotFound", "", Outcome.SKIP),
        (400, "failedPrecondition", "", Outcome.SKIP),
        (404, "playlistNotFound", "", Outcome.FAIL),
        (403, "playlistContainsMaximumNumberOfVideos", "", Outcome.FAIL),
        (401, "authError", "", Outcome.FAIL),
        (400, "invalidParameter", "", Outcome.FAIL),
    ],
)
def test_classify(status: int, reason: str, message: str, outcome: Outcome) -> None:
    assert classify(status, reason, message) is outcome


def test_backoff_honours_retry_after_and_grows() -> None:
    assert backoff(3, 7.0) == 7.0
    assert [backoff(n, None, rand=lambda: 0.5) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff(20, None, rand=lambda: 1.0) == 64.0


async def test_a_full_playlist_and_the_units_booked(fake: FakeYouTube) -> None:
    rec = Recorder()
    youtube, _ = await connect(fake, rec)
    fake.add_video("private1", privacy="private")
    found = await youtube.videos(["v1", "missing", "private1"])
    assert sorted(v["id"] for v in found) == ["private1", "v1"]
    playlist_id = await youtube.create_playlist("Mix", "private")
    for n in range(120):
        await youtube.add_video(playlist_id, f"v{n}")
    assert await youtube.playlist_video_ids(playlist_id) == [f"v{n}" for n in range(120)]  # three pages
    [playlist] = fake.playlists()
    assert (playlist.title, playlist.privacy) == ("Mix", "private")
    assert rec.booked.count("playlistItems.list") == 3 and rec.booked.count("playlistItems.insert") == 120
    assert fake.units_used == 1 + 50 + 120 * 50 + 3


async def test_transient_errors_are_retried_with_backoff(fake: FakeYouTube) -> None:
    rec = Recorder()
    youtube, _ = await connect(fake, rec)
    playlist_id = await youtube.create_playlist("Mix", "unlisted")
    fake.fail("playlistItems.insert", 503, "backendError", times=2)
    fake.fail("playlistItems.insert", 403, "userRateLimitExceeded")
    await youtube.add_video(playlist_id, "v1")
    assert len(rec.slept) == 3 and rec.booked.count("playlistItems.insert") == 4  # every attempt costs
    assert fake.playlists()[0].video_ids == ["v1"]


@pytest.mark.parametrize(
    ("status", "reason", "outcome", "message"),
    [
        (403, "quotaExceeded", Outcome.QUOTA, None),
        (404, "videoNotFound", Outcome.SKIP, None),
        (409, "videoAlreadyInPlaylist", Outcome.DUPLICATE, None),
        (404, "playlistNotFound", Outcome.FAIL, "the playlist was deleted on YouTube while it was being filled"),
        (403, "insufficientPermissions", Outcome.FAIL, RECONNECT_MESSAGE),
    ],
)
async def test_final_errors_are_not_retried(
    fake: FakeYouTube, status: int, reason: str, outcome: Outcome, message: str | None
) -> None:
    rec = Recorder()
    youtube, _ = await connect(fake, rec)
    playlist_id = await youtube.create_playlist("Mix", "private")
    fake.fail("playlistItems.insert", status, reason)
    with pytest.raises(YouTubeError) as caught:
        await youtube.add_video(playlist_id, "v1")
    assert (caught.value.outcome, caught.value.status, caught.value.reason) == (outcome, status, reason)
    if message is not None:
        assert caught.value.message == message
    assert rec.slept == [] and fake.playlists()[0].video_ids == []


async def test_retries_give_up_as_failure(fake: FakeYouTube) -> None:
    rec = Recorder()
    youtube, _ = await connect(fake, rec)
    fake.fail("playlists.insert", 500, "backendError", times=MAX_ATTEMPTS)
    with pytest.raises(YouTubeError) as caught:
        await youtube.create_playlist("Mix", "private")
    assert caught.value.outcome is Outcome.FAIL and len(rec.slept) == MAX_ATTEMPTS - 1


async def test_transport_errors_are_retried() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rec = Recorder()
    settings = Settings().with_(youtube_api_endpoint=f"http://127.0.0.1:{port}")
    youtube = await YouTube.connect(credentials_from_token(VALID, settings), settings.youtube_api_endpoint,
                                    rec.book, rec.sleep)
    with pytest.raises(YouTubeError) as caught:
        await youtube.videos(["v1"])
    assert caught.value.reason == "transport" and len(rec.booked) == MAX_ATTEMPTS


async def test_an_expired_token_is_refreshed_and_rotated(fake: FakeYouTube) -> None:
    rec = Recorder()
    stale = {**VALID, "access_token": "ya29.stale", "expires_at": time.time() - 60}
    youtube, creds = await connect(fake, rec, stale)
    assert creds.token_uri == f"{fake.url}/token"
    await youtube.create_playlist("Mix", "private")
    assert fake.refresh_count == 1
    fresh = rotated_token(creds, stale)
    assert fresh is not None and fresh["access_token"].startswith("ya29.") and fresh["access_token"] != "ya29.stale"
    assert "refresh_token" not in fresh and fresh["expires_at"] > time.time()
    assert rotated_token(creds, {**stale, **fresh}) is None


async def test_a_revoked_grant_asks_to_reconnect(fake: FakeYouTube) -> None:
    rec = Recorder()
    fake.revoke_refresh_token("1//refresh")
    youtube, _ = await connect(fake, rec, {**VALID, "access_token": "bogus"})
    with pytest.raises(YouTubeError) as caught:
        await youtube.create_playlist("Mix", "private")
    assert caught.value.outcome is Outcome.FAIL and caught.value.message == RECONNECT_MESSAGE
    assert fake.playlists() == []


def test_credentials_from_token_use_naive_utc_expiry() -> None:
    settings = Settings().with_(oauth_token_url="http://127.0.0.1:1/token")
    creds = credentials_from_token({**VALID, "expires_at": 1_767_225_600}, settings)
    assert creds.expiry == datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    assert creds.token_uri == "http://127.0.0.1:1/token"
    assert creds.scopes == ["openid", "https://www.googleapis.com/auth/youtube"]
