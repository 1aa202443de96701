"""Redis replies as text, whether the client decodes responses or not."""

from __future__ import annotations

from typing import Any


def redis_text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
