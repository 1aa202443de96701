"""Configuration of every process, read from the environment only when asked (never at import)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from schemas.playlist_jobs import DEFAULT_DAILY_UNITS, videos_per_day
from schemas.topics import Topics

DEFAULT_KAFKA = "127.0.0.1:19092"
DEFAULT_MONGO = "mongodb://127.0.0.1:27018/"
DEFAULT_REDIS = "redis://127.0.0.1:16379/0"
MONGO_DOCUMENTS = ("plain", "compressed")


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = DEFAULT_KAFKA
    mongo_url: str = DEFAULT_MONGO
    redis_url: str = DEFAULT_REDIS
    # Read replicas of redis_url that the site spreads its queries over (web/index_pool.py).
    redis_replica_urls: tuple[str, ...] = ()
    # True when DATAGET_* URLs point at servers someone else runs: the stack starts nothing then.
    external_stack: bool = False
    stack_dir: Path = Path(".stack")
    topics: Topics = field(default_factory=Topics)
    mongo_db: str = "discogs"
    # How records are stored in Mongo: "plain" documents, or "compressed" (zstd; for stores that do not compress
    # their own blocks, like FerretDB on SQLite, which could not hold the whole catalogue on one disk otherwise).
    mongo_documents: str = "plain"
    # Redis keys and faust group ids are namespaced by this, so tests and index versions don't collide.
    namespace: str = "dataget"
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    oauth_client_id: str = "dataget-local"
    oauth_client_secret: str = "dataget-local-secret"
    oauth_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    oauth_token_url: str = "https://oauth2.googleapis.com/token"
    oauth_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    # Where a user's grant is revoked ("Disconnect YouTube"), and who issues the ID tokens (their `iss`).
    oauth_revoke_url: str = "https://oauth2.googleapis.com/revoke"
    oauth_issuer: str = "https://accounts.google.com"
    youtube_api_endpoint: str = "https://youtube.googleapis.com"
    # Set by `dataget demo` alone (no variable sets it), when the OAuth and YouTube URLs point at its local
    # stand-ins: the page then says that playlists are not built on YouTube.
    demo: bool = False
    # YouTube Data API units the site's Google project may spend per Pacific day (the YouTube worker's budget).
    youtube_daily_units: int = DEFAULT_DAILY_UNITS
    # Per user: playlist jobs not yet finished, and videos per job; the site answers 429 beyond them.
    playlist_max_active_jobs: int = 2
    playlist_max_videos: int = videos_per_day(DEFAULT_DAILY_UNITS)
    # Fernet key (urlsafe base64, 32 bytes) encrypting OAuth tokens at rest; required by web and youtube-worker.
    token_key: str = ""
    # Secret for the signed session cookie (32 url-safe base64 bytes).
    session_secret: str = ""
    dump_base_url: str = "https://data.discogs.com/"
    download_dir: Path = Path("dumps")
    # Producer state that must survive restarts (content hash per record for incremental months).
    state_dir: Path = Path(".state")
    # Incremental ingest refuses to delete more than this share of an entity without --allow-mass-delete.
    max_delete_share: float = 0.10
    # Requests per second (and burst) one client may make to the site's API, sign-in and websockets; 0 = no limit.
    rate_limit_per_s: float = 10.0
    rate_limit_burst: int = 60
    # Index queries per second one site process runs for everybody together (0 = no limit). Each cold query caches
    # its result bitmaps in Redis for a few seconds, so this also bounds the memory of that cache.
    query_rate_per_process: float = 200.0
    # Addresses or networks of reverse proxies whose X-Forwarded-For names the client; none = use the peer address.
    trusted_proxies: tuple[str, ...] = ()
    # maxmemory of the local stack's Redis: a size in Redis' units ("14gb", "800mb", bytes) or a share of this
    # machine's physical memory ("60%": ~14 GB of 24, leaving the rest to FerretDB, Kafka and the processes).
    redis_maxmemory: str = "60%"
    # The index workers stop once their Redis holds this share of its maxmemory: the rest is room for the site's
    # queries, which write temporary keys and fail when Redis is full (sinks/redis_memory.py).
    index_memory_limit: float = 0.9
    # Index workers hold Redis' automatic AOF rewrites off while this many release messages or more are still to go
    # (a rewrite's fork would copy most of what a bulk build writes; sinks/aof_rewrites.py); 0 = never.
    aof_pause_backlog: int = 100_000

    @property
    def app_mongo_db(self) -> str:
        """The site's own database (users, tokens, playlist jobs), kept apart from the Discogs records."""
        return f"{self.mongo_db}_app"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


_ENV = {
    "DATAGET_KAFKA_BOOTSTRAP": "kafka_bootstrap",
    "DATAGET_MONGO_URL": "mongo_url",
    "DATAGET_REDIS_URL": "redis_url",
    "DATAGET_REDIS_REPLICA_URLS": "redis_replica_urls",
    "DATAGET_MONGO_DB": "mongo_db",
    "DATAGET_MONGO_DOCUMENTS": "mongo_documents",
    "DATAGET_NAMESPACE": "namespace",
    "DATAGET_WEB_HOST": "web_host",
    "DATAGET_WEB_PORT": "web_port",
    "DATAGET_PUBLIC_BASE_URL": "public_base_url",
    "DATAGET_OAUTH_CLIENT_ID": "oauth_client_id",
    "DATAGET_OAUTH_CLIENT_SECRET": "oauth_client_secret",
    "DATAGET_OAUTH_AUTHORIZE_URL": "oauth_authorize_url",
    "DATAGET_OAUTH_TOKEN_URL": "oauth_token_url",
    "DATAGET_OAUTH_USERINFO_URL": "oauth_userinfo_url",
    "DATAGET_OAUTH_REVOKE_URL": "oauth_revoke_url",
    "DATAGET_OAUTH_ISSUER": "oauth_issuer",
    "DATAGET_YOUTUBE_API_ENDPOINT": "youtube_api_endpoint",
    "DATAGET_YOUTUBE_DAILY_UNITS": "youtube_daily_units",
    "DATAGET_PLAYLIST_MAX_ACTIVE_JOBS": "playlist_max_active_jobs",
    "DATAGET_PLAYLIST_MAX_VIDEOS": "playlist_max_videos",
    "DATAGET_TOKEN_KEY": "token_key",
    "DATAGET_SESSION_SECRET": "session_secret",
    "DATAGET_DUMP_BASE_URL": "dump_base_url",
    "DATAGET_DOWNLOAD_DIR": "download_dir",
    "DATAGET_STACK_DIR": "stack_dir",
    "DATAGET_STATE_DIR": "state_dir",
    "DATAGET_MAX_DELETE_SHARE": "max_delete_share",
    "DATAGET_TOPIC_PREFIX": "topic_prefix",
    "DATAGET_RATE_LIMIT": "rate_limit_per_s",
    "DATAGET_RATE_BURST": "rate_limit_burst",
    "DATAGET_QUERY_RATE": "query_rate_per_process",
    "DATAGET_TRUSTED_PROXIES": "trusted_proxies",
    "DATAGET_REDIS_MAXMEMORY": "redis_maxmemory",
    "DATAGET_INDEX_MEMORY_LIMIT": "index_memory_limit",
    "DATAGET_AOF_PAUSE_BACKLOG": "aof_pause_backlog",
}
_SERVER_VARS = ("DATAGET_KAFKA_BOOTSTRAP", "DATAGET_MONGO_URL", "DATAGET_REDIS_URL")


def host_port(url: str, default_port: int) -> tuple[str, int]:
    """Host and port of a server URL, or of a bare host:port (a Kafka bootstrap address)."""
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


def redis_address(url: str) -> str:
    """host:port of a Redis URL, for logs and status lines (the URL may hold a password)."""
    host, port = host_port(url, 6379)
    return f"{host}:{port}"


# Redis' own size units (redis.conf): k, m, g are powers of 1000, kb, mb, gb of 1024.
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(%|[a-z]*)\s*")


def memory_bytes(spec: str, physical: int) -> int:
    """Bytes of a size in Redis' units ("14gb", "800mb", "1000000") or of a share of `physical` bytes ("60%")."""
    match = _SIZE.fullmatch(spec.lower())
    if match is None or (match.group(2) not in _UNITS and match.group(2) != "%"):
        raise ValueError(f"DATAGET_REDIS_MAXMEMORY: {spec!r} is neither a size (14gb, 800mb, bytes) nor a share of "
                         "physical memory (60%)")
    number, unit = float(match.group(1)), match.group(2)
    if unit == "%":
        if not 0 < number <= 100:
            raise ValueError(f"DATAGET_REDIS_MAXMEMORY: {spec!r} is not a share of physical memory in (0, 100]%")
        return int(physical * number / 100)
    return int(number * _UNITS[unit])


def physical_memory() -> int:
    """Bytes of physical memory of this machine."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from DATAGET_* variables; unset ones keep their defaults."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    for var, name in _ENV.items():
        if var not in env:
            continue
        raw = env[var]
        if name in ("web_port", "rate_limit_burst", "youtube_daily_units", "playlist_max_active_jobs",
                    "playlist_max_videos", "aof_pause_backlog"):
            values[name] = int(raw)
        elif name in ("max_delete_share", "rate_limit_per_s", "query_rate_per_process"):
            values[name] = float(raw)
        elif name == "redis_maxmemory":
            memory_bytes(raw, physical=1)  # refuses a malformed size now rather than when the stack starts
            values[name] = raw
        elif name == "index_memory_limit":
            values[name] = float(raw)
            if not 0 < float(raw) <= 1:
                raise ValueError(f"DATAGET_INDEX_MEMORY_LIMIT: {raw!r} is not a share in (0, 1]")
        elif name in ("stack_dir", "download_dir", "state_dir"):
            values[name] = Path(raw)
        elif name == "topic_prefix":
            values["topics"] = Topics(prefix=raw)
        elif name == "mongo_documents" and raw not in MONGO_DOCUMENTS:
            raise ValueError(f"DATAGET_MONGO_DOCUMENTS: {raw!r} is not one of {', '.join(MONGO_DOCUMENTS)}")
        elif name in ("redis_replica_urls", "trusted_proxies"):
            values[name] = tuple(item.strip() for item in raw.split(",") if item.strip())
        else:
            values[name] = raw
    present = [v for v in _SERVER_VARS if env.get(v)]
    if present and len(present) != len(_SERVER_VARS):
        missing = sorted(set(_SERVER_VARS) - set(present))
        raise ValueError(f"external servers: set all of {', '.join(_SERVER_VARS)} (missing {', '.join(missing)})")
    values["external_stack"] = bool(present)
    return Settings(**values)  # type: ignore[arg-type]


def settings_env(settings: Settings) -> dict[str, str]:
    """The DATAGET_* variables that make a child process see the same settings (inverse of settings_from_env)."""
    env = {}
    for var, name in _ENV.items():
        value = settings.topics.prefix if name == "topic_prefix" else getattr(settings, name)
        env[var] = ",".join(value) if isinstance(value, tuple) else str(value)
    return env
