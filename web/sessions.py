"""Server-side sessions: the cookie names a session, the store says whether it is still alive (pure rules).

Signing out ends the session on the server, so a copied cookie stops working; a session also ends after
SESSION_IDLE unused and SESSION_MAX after sign-in, whichever comes first. The store keys a session by the hash of
its id: what the store holds cannot be turned back into a cookie's content.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TypedDict

SESSION_MAX = timedelta(days=30)
SESSION_IDLE = timedelta(days=7)
# Use is recorded at most this often per session (a write per request would be wasted).
TOUCH_EVERY = timedelta(minutes=5)
# A user not seen this long is forgotten: their stored OAuth token and sessions are deleted.
USER_RETENTION = timedelta(days=180)


class SessionRecord(TypedDict):
    user_id: str
    created_at: datetime
    seen_at: datetime


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_key(session_id: str) -> str:
    """The store's key of a session: a hash of the id the cookie carries."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # pymongo hands back naive UTC


def is_alive(record: SessionRecord, user_id: str, now: datetime) -> bool:
    """Whether the session is the user's and neither too old nor idle too long."""
    return (record["user_id"] == user_id and now - _aware(record["created_at"]) < SESSION_MAX
            and now - _aware(record["seen_at"]) < SESSION_IDLE)


def needs_touch(record: SessionRecord, now: datetime) -> bool:
    return now - _aware(record["seen_at"]) >= TOUCH_EVERY
