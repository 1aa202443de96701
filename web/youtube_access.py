"""A user's YouTube access: whether their stored grant covers YouTube, and disconnecting it (revoke, then delete).

Sign-in asks only who the user is; YouTube access is asked for when they first request a playlist (incremental
authorization), and what Google actually granted is checked, since the consent screen lets a user untick a scope.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

from runtime.settings import Settings
from sinks.user_tokens import TokenKeyError
from web.ports import Store

log = logging.getLogger(__name__)

YOUTUBE_SCOPE = "https://www.googleapis.com/auth/youtube"
REVOKE_TIMEOUT_S = 10


def grants_youtube(token: Mapping[str, Any] | None) -> bool:
    """Whether the token's granted scopes (its `scope`, as the token endpoint answered) include YouTube and it
    can be refreshed (the worker runs jobs long after the access token expired)."""
    if not token or not token.get("refresh_token"):
        return False
    scope = token.get("scope")
    return isinstance(scope, str) and YOUTUBE_SCOPE in scope.split()


async def has_youtube(store: Store, user_id: str) -> bool:
    try:
        return grants_youtube(await store.load_token(user_id))
    except TokenKeyError:
        return False  # no key decrypts it: as good as none, the user must grant access again


async def revoke(settings: Settings, token: Mapping[str, Any]) -> bool:
    """Revoke the grant at the provider (RFC 7009; revoking the refresh token ends the whole grant at Google)."""
    value = token.get("refresh_token") or token.get("access_token")
    if not value:
        return False
    try:
        async with httpx.AsyncClient(timeout=REVOKE_TIMEOUT_S) as client:
            response = await client.post(settings.oauth_revoke_url, data={"token": value})
    except httpx.HTTPError as exc:
        log.warning("token revocation did not reach the provider: %s", type(exc).__name__)
        return False
    if response.status_code != 200:
        # 400 invalid_token: revoked already (by the user in their Google account, or expired).
        log.warning("token revocation answered %d", response.status_code)
    return response.status_code == 200


async def disconnect(settings: Settings, store: Store, user_id: str) -> None:
    """Revoke the user's grant and delete the stored token; the token goes even if the provider cannot be reached
    (the grant then stays until the user removes it in their Google account)."""
    try:
        token = await store.load_token(user_id)
    except TokenKeyError:
        token = None  # nothing we can revoke
    if token is not None:
        await revoke(settings, token)
    await store.delete_token(user_id)
    log.info("disconnected YouTube of %s", user_id)
