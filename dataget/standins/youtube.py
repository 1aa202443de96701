"""A stateful stand-in of the YouTube Data API v3 (aiohttp, background thread): the playlist worker's tests and
`dataget demo` build playlists on it.

Serves what google-api-python-client calls with `api_endpoint=fake.url`:
- `GET /youtube/v3/videos?id=a,b` (ids outside the catalogue are absent, like deleted or private videos),
- `POST /youtube/v3/playlists`, `POST|GET /youtube/v3/playlistItems`,
- `POST /token` (refresh_token grant) when used without the OIDC fake.
With `any_video=True` every well-formed id is a public, embeddable video (`dataget demo`, whose catalogue is
made up). Errors have Google's JSON shape. A unit ledger answers 403 quotaExceeded once the daily units are spent.
Like the real API today, a playlist may hold a video twice; `reject_duplicates=True` answers 409
videoAlreadyInPlaylist.
Use `settings.with_(**fake.settings_overrides())`.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from dataget.standins.serve import BackgroundServer
from schemas.youtube import is_video_id

COSTS = {"videos.list": 1, "playlists.insert": 50, "playlistItems.insert": 50, "playlistItems.list": 1}
DOMAINS = {"quotaExceeded": "youtube.quota", "videoNotFound": "youtube.playlistItem",
           "playlistNotFound": "youtube.playlistItem", "authError": "global"}
SCOPE = "https://www.googleapis.com/auth/youtube"


def default_validator(token: str) -> bool:
    return token.startswith("ya29.")


@dataclass
class FakePlaylist:
    id: str
    title: str
    privacy: str
    video_ids: list[str] = field(default_factory=list)


@dataclass
class Hold:
    """Blocks one playlistItems.insert after it was applied, before the answer: a crash window for tests."""

    at: int
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    detail = {"message": message, "domain": DOMAINS.get(reason, "youtube.api"), "reason": reason}
    return {"error": {"code": status, "message": message, "errors": [detail]}}


class FakeYouTube:
    def __init__(
        self,
        videos: Iterable[str] = (),
        *,
        daily_units: int = 10_000,
        token_validator: Callable[[str], bool] = default_validator,
        reject_duplicates: bool = False,
        any_video: bool = False,
        client_id: str = "dataget-test",
        client_secret: str = "dataget-test-secret",
    ) -> None:
        self.daily_units = daily_units
        self.units_used = 0
        self.client_id = client_id
        self.client_secret = client_secret
        self.reject_duplicates = reject_duplicates
        self.any_video = any_video
        # Method names of every API request received, in order (also the ones answered with an error).
        self.calls: list[str] = []
        # (playlist id, video id) of every item inserted, in order, across playlists.
        self.inserted: list[tuple[str, str]] = []
        self.refresh_count = 0
        self._validator = token_validator
        self._catalogue: dict[str, dict[str, Any]] = {}
        self._playlists: dict[str, FakePlaylist] = {}
        self._failures: defaultdict[str, deque[tuple[int, str, str]]] = defaultdict(deque)
        self._revoked: set[str] = set()
        self._inserted = 0
        self._hold: Hold | None = None
        self._lock = threading.Lock()
        self._server = BackgroundServer(self._app, "fake-youtube")
        for video_id in videos:
            self.add_video(video_id)

    # ----- lifecycle -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if not self._server.port:
            raise RuntimeError("FakeYouTube is not started")
        return f"http://127.0.0.1:{self._server.port}"

    def settings_overrides(self, with_token_endpoint: bool = True) -> dict[str, str]:
        """Settings pointing at this fake; `with_token_endpoint=False` leaves OAuth to the OIDC fake."""
        overrides = {"youtube_api_endpoint": self.url}
        if with_token_endpoint:
            overrides |= {"oauth_token_url": f"{self.url}/token", "oauth_client_id": self.client_id,
                          "oauth_client_secret": self.client_secret}
        return overrides

    def start(self) -> FakeYouTube:
        self._server.start()
        return self

    def stop(self) -> None:
        if self._hold is not None:
            self._hold.release.set()
        self._server.stop()

    def __enter__(self) -> FakeYouTube:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- control and inspection from tests -------------------------------------------------------------
    def add_video(self, video_id: str, privacy: str = "public", embeddable: bool = True) -> None:
        with self._lock:
            self._catalogue[video_id] = {"privacyStatus": privacy, "embeddable": embeddable}

    def fail(self, method: str, status: int, reason: str, *, times: int = 1, message: str | None = None) -> None:
        """Answer the next `times` calls of `method` (e.g. "playlistItems.insert") with this error."""
        with self._lock:
            self._failures[method].extend([(status, reason, message or reason)] * times)

    def hold_insert(self, at: int) -> Hold:
        """Hold the `at`-th (1-based) successful playlistItems.insert open until `hold.release` is set."""
        with self._lock:
            self._hold = Hold(at)
            return self._hold

    def revoke_refresh_token(self, refresh_token: str) -> None:
        with self._lock:
            self._revoked.add(refresh_token)

    def reset_quota(self) -> None:
        with self._lock:
            self.units_used = 0

    def playlists(self) -> list[FakePlaylist]:
        with self._lock:
            return [FakePlaylist(p.id, p.title, p.privacy, list(p.video_ids)) for p in self._playlists.values()]

    def _status(self, video_id: str) -> dict[str, Any] | None:
        """The video's status resource; None when there is no such video."""
        if video_id in self._catalogue:
            return dict(self._catalogue[video_id])
        if self.any_video and is_video_id(video_id):
            return {"privacyStatus": "public", "embeddable": True}
        return None

    # ----- the API ---------------------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/youtube/v3/videos", self._api("videos.list", self._videos_list))
        app.router.add_post("/youtube/v3/playlists", self._api("playlists.insert", self._playlists_insert))
        app.router.add_post("/youtube/v3/playlistItems", self._api("playlistItems.insert", self._items_insert))
        app.router.add_get("/youtube/v3/playlistItems", self._api("playlistItems.list", self._items_list))
        app.router.add_post("/token", self._token)
        return app

    def _api(self, method: str,
             handler: Callable[[web.Request, Any], tuple[web.Response, Hold | None]]) -> Callable[..., Any]:
        async def wrapped(request: web.Request) -> web.Response:
            body = await request.json() if request.method == "POST" else None
            with self._lock:
                self.calls.append(method)
                header = request.headers.get("Authorization", "")
                if not (header.startswith("Bearer ") and self._validator(header.removeprefix("Bearer "))):
                    return _error(401, "authError", "Invalid Credentials")
                if self.units_used + COSTS[method] > self.daily_units:
                    return _error(403, "quotaExceeded", "The request cannot be completed because you have "
                                  "exceeded your quota.")
                self.units_used += COSTS[method]
                if self._failures[method]:
                    return _error(*self._failures[method].popleft())
                response, hold = handler(request, body)
            if hold is not None:
                hold.reached.set()
                await asyncio.to_thread(hold.release.wait)
            return response

        return wrapped

    def _videos_list(self, request: web.Request, _: None) -> tuple[web.Response, None]:
        ids = [i for i in request.query.get("id", "").split(",") if i]
        if len(ids) > 50:
            return _error(400, "invalidParameter", "Too many ids"), None
        items = [{"kind": "youtube#video", "id": i, "status": status}
                 for i in ids if (status := self._status(i)) is not None]
        return web.json_response({"kind": "youtube#videoListResponse", "items": items}), None

    def _playlists_insert(self, _: web.Request, body: dict[str, Any]) -> tuple[web.Response, None]:
        title = (body.get("snippet") or {}).get("title")
        if not title:
            return _error(400, "playlistTitleRequired", "The playlist title is required."), None
        privacy = (body.get("status") or {}).get("privacyStatus", "public")
        playlist = FakePlaylist(f"PL{secrets.token_hex(8)}", title, privacy)
        self._playlists[playlist.id] = playlist
        resource = {"kind": "youtube#playlist", "id": playlist.id, "snippet": {"title": title},
                    "status": {"privacyStatus": privacy}}
        return web.json_response(resource), None

    def _items_insert(self, _: web.Request, body: dict[str, Any]) -> tuple[web.Response, Hold | None]:
        snippet = body.get("snippet") or {}
        playlist = self._playlists.get(snippet.get("playlistId", ""))
        video_id = (snippet.get("resourceId") or {}).get("videoId", "")
        if playlist is None:
            return _error(404, "playlistNotFound", "Playlist not found."), None
        if self._status(video_id) is None:
            return _error(404, "videoNotFound", "Video not found."), None
        if self.reject_duplicates and video_id in playlist.video_ids:
            return _error(409, "videoAlreadyInPlaylist", "The playlist already contains the video."), None
        if "position" in snippet:
            return _error(400, "manualSortRequired", "The playlist must be sorted manually."), None
        playlist.video_ids.append(video_id)
        self.inserted.append((playlist.id, video_id))
        self._inserted += 1
        resource = {"kind": "youtube#playlistItem", "id": secrets.token_hex(8),
                    "snippet": {"playlistId": playlist.id, "position": len(playlist.video_ids) - 1,
                                "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
        hold = self._hold if self._hold is not None and self._hold.at == self._inserted else None
        return web.json_response(resource), hold

    def _items_list(self, request: web.Request, _: None) -> tuple[web.Response, None]:
        playlist = self._playlists.get(request.query.get("playlistId", ""))
        if playlist is None:
            return _error(404, "playlistNotFound", "Playlist not found."), None
        size = min(int(request.query.get("maxResults", "5")), 50)
        offset = int(request.query.get("pageToken") or 0)
        page = playlist.video_ids[offset : offset + size]
        items = [{"kind": "youtube#playlistItem", "snippet": {"playlistId": playlist.id, "position": offset + n,
                  "resourceId": {"kind": "youtube#video", "videoId": v}}} for n, v in enumerate(page)]
        answer: dict[str, Any] = {"kind": "youtube#playlistItemListResponse", "items": items}
        if offset + size < len(playlist.video_ids):
            answer["nextPageToken"] = str(offset + size)
        return web.json_response(answer), None

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        with self._lock:
            if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
                return web.json_response({"error": "invalid_client"}, status=401)
            if form.get("grant_type") != "refresh_token":
                return web.json_response({"error": "unsupported_grant_type"}, status=400)
            if not form.get("refresh_token") or form.get("refresh_token") in self._revoked:
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}, status=400
                )
            self.refresh_count += 1
        return web.json_response({"access_token": f"ya29.{secrets.token_urlsafe(24)}", "expires_in": 3599,
                                  "scope": SCOPE, "token_type": "Bearer"})


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response(error_body(status, reason, message), status=status)
