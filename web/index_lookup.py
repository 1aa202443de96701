"""Which facet index version serves queries: switched atomically by rewriting one Redis key."""

from __future__ import annotations

from redis.asyncio import Redis


def active_key(base: str) -> str:
    return f"{base}:active"


async def active_index_namespace(redis: Redis, base: str) -> str:
    """The namespace of the active index version; `{base}:v0` until a version has been activated."""
    value = await redis.get(active_key(base))
    if value is None:
        return f"{base}:v0"
    return value.decode() if isinstance(value, bytes) else str(value)
