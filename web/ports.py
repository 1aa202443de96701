"""What the handlers depend on: small protocols (real ones wired in create_app, fakes in tests)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from runtime.settings import Settings
from schemas.playlist_jobs import PlaylistJob, StatusSnapshot
from schemas.query import FacetQuery, FacetValue, QueryResult
from schemas.records import Master, Release
from web.sessions import SessionRecord
from web.status_hub import StatusHub


class ReleaseIndex(Protocol):
    async def query(self, query: FacetQuery) -> QueryResult: ...

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]: ...

    async def facet_counts(self, facet: str, within: FacetQuery, prefix: str = "",
                           limit: int = 20) -> list[FacetValue]: ...

    # Names the index's content (sinks/facet_index.py FacetIndex.generation): ETags of its answers.
    async def generation(self) -> str: ...


# Resolved per request: the active index version can switch between two requests.
IndexProvider = Callable[[], Awaitable[ReleaseIndex]]


class Store(Protocol):
    """Release documents and the site's own data (users, encrypted tokens, playlist jobs)."""

    async def get_release(self, release_id: int) -> Release | None: ...

    async def get_master(self, master_id: int) -> Master | None: ...

    # token: the OAuth token when it grants YouTube access (None: the sign-in granted only who the user is).
    async def save_user(self, user_id: str, profile: dict[str, Any], token: dict[str, Any] | None) -> None: ...

    # The user's stored OAuth token (sinks.user_tokens.TokenKeyError when no configured key decrypts it).
    async def load_token(self, user_id: str) -> dict[str, Any] | None: ...

    async def delete_token(self, user_id: str) -> None: ...

    # Sessions by key (web/sessions.py): the server's side of signing in and out.
    async def start_session(self, key: str, user_id: str, now: datetime) -> None: ...

    async def get_session(self, key: str) -> SessionRecord | None: ...

    # Record use of the session (and that its user was seen).
    async def touch_session(self, key: str, user_id: str, now: datetime) -> None: ...

    async def end_session(self, key: str) -> None: ...

    # Delete the tokens and sessions of users not seen since `cutoff`; how many users.
    async def forget_idle_users(self, cutoff: datetime) -> int: ...

    async def create_job(self, job: PlaylistJob) -> None: ...

    async def get_job(self, job_id: str) -> PlaylistJob | None: ...

    # The status of a job as the YouTube worker last saved it (None before it has seen the job).
    async def get_job_status(self, job_id: str) -> StatusSnapshot | None: ...

    # How many of the user's playlist requests the YouTube worker has not finished (unseen ones count).
    async def active_jobs(self, user_id: str) -> int: ...

    async def delete_job(self, job_id: str) -> None: ...


class JobPublisher(Protocol):
    async def publish(self, job: PlaylistJob) -> None: ...


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    index: IndexProvider
    store: Store
    publisher: JobPublisher
    hub: StatusHub


CTX = web.AppKey("dataget_web", WebContext)
