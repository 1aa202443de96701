"""What a facet index keeps in binary, decoded for comparisons: the release docs of its d:* hashes (MessagePack) and
the small number sets of its sb:* buckets (u32s), both written by the roaring module (src/index_write.rs)."""

from __future__ import annotations

from typing import Any

import orjson
from redis.asyncio import Redis

# Each field of the hash, then its doc as JSON: the decoding done by the MessagePack of Redis' Lua.
_AS_JSON = """
local out = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  out[#out + 1] = flat[i]
  out[#out + 1] = cjson.encode(cmsgpack.unpack(flat[i + 1]))
end
return out
"""


def is_doc_bucket(name: str) -> bool:
    """Whether an index key (its name after the namespace) is a hash of release docs."""
    return name.startswith("d:")


async def release_docs(redis: Redis, key: str | bytes) -> dict[str, Any]:
    """Release id -> doc, of the d:* hash at key."""
    flat = await redis.eval(_AS_JSON, 1, key)  # type: ignore[misc]
    text = [item.decode() if isinstance(item, bytes) else str(item) for item in flat]
    return {text[i]: orjson.loads(text[i + 1]) for i in range(0, len(text), 2)}


# Each field of a sb:* bucket, then its numbers as JSON ('' for a set that has its own key): decoded by Redis' Lua,
# whatever the client's decoding.
_SETS_AS_JSON = """
local out = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local packed = flat[i + 1]
  local numbers = {struct.unpack('<' .. string.rep('I4', #packed / 4), packed)}
  numbers[#numbers] = nil
  out[#out + 1] = flat[i]
  out[#out + 1] = #packed > 0 and cjson.encode(numbers) or ''
end
return out
"""


def is_set_bucket(name: str) -> bool:
    """Whether an index key (its name after the namespace) is a bucket of small number sets."""
    return name.startswith("sb:")


async def bucket_sets(redis: Redis, key: str | bytes) -> dict[str, list[int] | str]:
    """Number set name -> its numbers, of the sb:* bucket at key; "own key" for a set that has moved to its own key."""
    flat = await redis.eval(_SETS_AS_JSON, 1, key)  # type: ignore[misc]
    text = [item.decode() if isinstance(item, bytes) else str(item) for item in flat]
    return {text[i]: orjson.loads(text[i + 1]) if text[i + 1] else "own key" for i in range(0, len(text), 2)}


async def number_sets(redis: Redis, ns: str) -> dict[str, str]:
    """Name (after the namespace) -> where each number set of the index lives: "roaringbm", "set" or "bucket"."""
    out: dict[str, str] = {}
    async for raw in redis.scan_iter(f"{ns}:sb:*", count=1000):
        for name, where in (await bucket_sets(redis, raw)).items():
            if where != "own key":
                out[name] = "bucket"
    for pattern in ("k:*", "tr:*"):
        async for raw in redis.scan_iter(f"{ns}:{pattern}", count=1000):
            name = raw.decode() if isinstance(raw, bytes) else raw
            kind = await redis.type(raw)
            out[name.removeprefix(f"{ns}:")] = kind.decode() if isinstance(kind, bytes) else kind
    return out
