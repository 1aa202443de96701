"""What both modes of bench/roaring_ab.py measure with: the facet index's layout rule and Redis' memory."""

from __future__ import annotations

import redis

# As sinks/lua/common.lua: bitmaps are padded to whole blocks; values below these stay SETs.
PAD_BYTES = 16384
BITMAP_MIN = 512
BITMAP_DENSITY = 4096


def dataset_bytes(client: redis.Redis) -> int:
    """used_memory less Redis' overhead (clients' buffers, which large replies leave behind for a while, ...)."""
    return int(client.memory_stats()["dataset.bytes"])


def usage(client: redis.Redis, key: str | bytes) -> int:
    return int(client.memory_usage(key, samples=0) or 0)
