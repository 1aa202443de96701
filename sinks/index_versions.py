"""Index versions: each a Redis key namespace; one key names the active one, so switching is one atomic SET."""

from __future__ import annotations

from redis.asyncio import Redis


def active_key(base: str) -> str:
    return f"{base}:active"


def version_namespace(base: str, version: int) -> str:
    return f"{base}:v{version}"


async def active_index_namespace(redis: Redis, base: str) -> str:
    """The namespace of the active index version; version 0 until another has been activated."""
    value = await redis.get(active_key(base))
    if value is None:
        return version_namespace(base, 0)
    return value.decode() if isinstance(value, bytes) else str(value)


async def new_index_namespace(redis: Redis, base: str) -> str:
    """A namespace no version has used yet (a counter, so an aborted reindex never collides)."""
    return version_namespace(base, int(await redis.incr(f"{base}:version_seq")))


async def activate(redis: Redis, base: str, namespace: str) -> str:
    """Make namespace the active version; returns the one it replaced."""
    previous = await redis.set(active_key(base), namespace, get=True)
    if previous is None:
        return version_namespace(base, 0)
    return previous.decode() if isinstance(previous, bytes) else str(previous)
