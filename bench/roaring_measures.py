"""What bench/roaring_ab.py measures with: the plain-bitmap rule it compares against and Redis' memory."""

from __future__ import annotations

import redis

# The plain-bitmap rule compared against: bitmaps padded to whole blocks; values below these stay SETs.
PAD_BYTES = 16384
BITMAP_MIN = 512
BITMAP_DENSITY = 4096


def dataset_bytes(client: redis.Redis) -> int:
    """used_memory less Redis' overhead (clients' buffers, which large replies leave behind for a while, ...)."""
    return int(client.memory_stats()["dataset.bytes"])


def usage(client: redis.Redis, key: str | bytes) -> int:
    return int(client.memory_usage(key, samples=0) or 0)
