"""The release docs of a facet index's d:* hash (MessagePack, sinks/lua/write.lua), decoded for comparisons."""

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
