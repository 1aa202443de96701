"""In-memory stand-ins for the site's ports (index, store, publisher), shared by the web tests."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet
from yarl import URL

from runtime.settings import Settings
from schemas.playlist_jobs import ACTIVE_STATES
from schemas.query import MAX_LIMIT, FacetQuery, FacetValue, QueryResult, SampleVideo
from sinks.user_tokens import TokenKeyError

GENRES = ("Electronic", "Jazz", "Rock", "Funk / Soul")
# The site's address in the tests (public_base_url): requests that change state come from this Origin.
ORIGIN = "http://dataget.test"
JSON = {"Origin": ORIGIN, "Content-Type": "application/json"}
# A playlist request the tests post.
BODY = {"title": "Jazz sampler", "privacy": "unlisted", "query": {"genre": ["Jazz"]}, "max_videos": 7}


@dataclass(frozen=True)
class FakeRelease:
    release_id: int
    facets: dict[str, tuple[str, ...]]
    videos: tuple[str, ...]


def catalog(n: int = 40) -> list[FakeRelease]:
    """n releases spread over the genres and two decades, two videos each."""
    return [
        FakeRelease(
            release_id=i,
            facets={
                "genre": (GENRES[i % len(GENRES)],),
                "year": (str(1970 + i % 20),),
                "decade": ("1970" if i % 20 < 10 else "1980",),
            },
            videos=(f"vid{i:03d}a", f"vid{i:03d}b"),
        )
        for i in range(1, n + 1)
    ]


@dataclass
class FakeIndex:
    releases: Sequence[FakeRelease] = field(default_factory=catalog)
    queries: list[FacetQuery] = field(default_factory=list)
    # What generation() names; a test changes it to stand for a write.
    content: str = "fake@1"

    def _matches(self, query: FacetQuery) -> list[FakeRelease]:
        return [
            r
            for r in self.releases
            if all(set(values) & set(r.facets.get(facet, ())) for facet, values in query.facets.items())
        ]

    async def query(self, query: FacetQuery) -> QueryResult:
        """Like the real index: a seed shuffles the sample reproducibly, and the sample holds at most MAX_LIMIT."""
        self.queries.append(query)
        hits = self._matches(query)
        videos = [SampleVideo(v, r.release_id, f"Title of {v}") for r in hits for v in r.videos]
        sample = list(videos)
        if query.seed is not None:
            random.Random(query.seed).shuffle(sample)
        return QueryResult(releases=len(hits), videos=len(videos), sample=sample[: min(query.limit, MAX_LIMIT)],
                           generation=self.content)

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        counts: dict[str, int] = {}
        for r in self.releases:
            for value in r.facets.get(facet, ()):
                if value.lower().startswith(prefix.lower()):
                    counts[value] = counts.get(value, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [FacetValue(value, n) for value, n in ranked]

    async def facet_counts(self, facet: str, within: FacetQuery, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        """Like the real index: every value counted within the other facets, most first, then most overall."""
        others = FacetQuery(facets={f: v for f, v in within.facets.items() if f != facet})
        hits = {r.release_id for r in self._matches(others)}
        overall = await self.facet_values(facet, prefix, limit=len(self.releases))
        counts = {v.value: sum(r.release_id in hits and v.value in r.facets.get(facet, ()) for r in self.releases)
                  for v in overall}
        ranked = sorted(overall, key=lambda v: (-counts[v.value], -v.releases, v.value))[:limit]
        return [FacetValue(v.value, counts[v.value]) for v in ranked]

    async def generation(self) -> str:
        return self.content

    async def provider(self) -> FakeIndex:
        return self


@dataclass
class FakeStore:
    releases: dict[int, dict[str, Any]] = field(default_factory=dict)
    masters: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What the YouTube worker saved of each job (StatusSnapshots).
    job_statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Users whose stored token no key decrypts (load_token raises TokenKeyError, as the real store does).
    undecryptable: set[str] = field(default_factory=set)

    async def get_release(self, release_id: int) -> dict[str, Any] | None:
        return self.releases.get(release_id)

    async def get_master(self, master_id: int) -> dict[str, Any] | None:
        return self.masters.get(master_id)

    async def save_user(self, user_id: str, profile: dict[str, Any], token: dict[str, Any] | None) -> None:
        self.users[user_id] = {**profile, "last_seen": datetime.now(UTC)}
        if token is not None:  # like UserTokenStore.save: a token without a refresh token keeps the stored one
            self.undecryptable.discard(user_id)
            self.tokens[user_id] = {**self.tokens.get(user_id, {}), **token}

    async def load_token(self, user_id: str) -> dict[str, Any] | None:
        if user_id in self.undecryptable:
            raise TokenKeyError(f"stored token of user {user_id} does not decrypt with the configured key")
        return self.tokens.get(user_id)

    async def delete_token(self, user_id: str) -> None:
        self.tokens.pop(user_id, None)
        self.undecryptable.discard(user_id)

    async def start_session(self, key: str, user_id: str, now: datetime) -> None:
        self.sessions[key] = {"user_id": user_id, "created_at": now, "seen_at": now}

    async def get_session(self, key: str) -> dict[str, Any] | None:
        return self.sessions.get(key)

    async def touch_session(self, key: str, user_id: str, now: datetime) -> None:
        if key in self.sessions:
            self.sessions[key]["seen_at"] = now
        if user_id in self.users:
            self.users[user_id]["last_seen"] = now

    async def end_session(self, key: str) -> None:
        self.sessions.pop(key, None)

    async def forget_idle_users(self, cutoff: datetime) -> int:
        gone = [user_id for user_id, user in self.users.items() if user["last_seen"] < cutoff]
        for user_id in gone:
            await self.delete_token(user_id)
        self.sessions = {k: s for k, s in self.sessions.items() if s["user_id"] not in gone and s["seen_at"] >= cutoff}
        return len(gone)

    async def create_job(self, job: dict[str, Any]) -> None:
        self.jobs[job["job_id"]] = job

    async def get_job(self, job_id: str) -> dict[str, Any] | None:
        return self.jobs.get(job_id)

    async def get_job_status(self, job_id: str) -> dict[str, Any] | None:
        return self.job_statuses.get(job_id)

    async def active_jobs(self, user_id: str) -> int:
        return sum(1 for job_id, job in self.jobs.items() if job["user_id"] == user_id
                   and self.job_statuses.get(job_id, {}).get("state", "queued") in ACTIVE_STATES)

    async def delete_job(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)


@dataclass
class ListPublisher:
    published: list[dict[str, Any]] = field(default_factory=list)

    async def publish(self, job: dict[str, Any]) -> None:
        self.published.append(job)


def web_settings(**changes: object) -> Settings:
    return Settings(session_secret=Fernet.generate_key().decode(), token_key=Fernet.generate_key().decode()).with_(
        **changes
    )


async def provider_roundtrip(client: TestClient, youtube: bool = True) -> ClientResponse:
    """The browser dance /auth/login -> provider (auto-approves) -> /auth/callback; the callback's response.
    youtube: ask for YouTube access too, as the page does before the first playlist."""
    login = await client.get("/auth/login?youtube=1" if youtube else "/auth/login", allow_redirects=False)
    assert login.status == 302, await login.text()
    async with ClientSession() as browser:
        answer = await browser.get(login.headers["Location"], allow_redirects=False)
        assert answer.status == 302, await answer.text()
        back = URL(answer.headers["Location"])
    return await client.get(back.path_qs, allow_redirects=False)


async def sign_in(client: TestClient, youtube: bool = True) -> None:
    """Sign in through the fake provider (the session cookie stays in client's jar)."""
    done = await provider_roundtrip(client, youtube)
    assert done.status == 302, await done.text()

