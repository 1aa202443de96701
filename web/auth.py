"""Sign in with Google (authorization code + PKCE, Authlib over httpx) and the session helpers."""

from __future__ import annotations

import base64
import hmac
import logging
import time
import warnings
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from aiohttp import web
from aiohttp_session import get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError

from runtime.settings import Settings
from web import sessions
from web.ports import CTX
from web.youtube_access import YOUTUBE_SCOPE, disconnect, grants_youtube

with warnings.catch_warnings():
    # Authlib 1.9 nudges towards the `httpx2` fork; plain httpx works and is what we ship.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger(__name__)

# Who the user is; YouTube access is asked for on top when a playlist needs it (/auth/login?youtube=1).
SCOPE = "openid email profile"
USER_KEY = "user"
LOGIN_KEY = "login"
# Clock difference tolerated between us and the provider when checking an ID token's times (seconds).
CLOCK_SKEW_S = 300


class SignInError(Exception):
    """The provider's answer does not sign anybody in; the message is safe to show."""


def site_origin(settings: Settings) -> str:
    parts = urlsplit(settings.public_base_url)
    # As browsers send Origin: scheme and host in lower case.
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def is_https(settings: Settings) -> bool:
    return urlsplit(settings.public_base_url).scheme.lower() == "https"


def redirect_uri(settings: Settings) -> str:
    # Never derived from the request: behind a proxy the request URL is the upstream hop's.
    return settings.public_base_url.rstrip("/") + "/auth/callback"


def session_storage(settings: Settings) -> EncryptedCookieStorage:
    if not settings.session_secret:
        raise ValueError("DATAGET_SESSION_SECRET is not set (generate one with `dataget keygen`)")
    secure = is_https(settings)
    return EncryptedCookieStorage(
        settings.session_secret,
        # __Host-: the browser keeps it only if Secure, for this host alone and path /, so a sibling subdomain
        # cannot plant or overwrite it.
        cookie_name="__Host-dataget_session" if secure else "dataget_session",
        max_age=int(sessions.SESSION_MAX.total_seconds()),
        path="/",
        httponly=True,
        # Lax: the callback is a top-level navigation back from the provider's site.
        samesite="Lax",
        secure=secure,
    )


def check_origin(request: web.Request) -> None:
    """Refuse cross-site requests (CSRF, websocket hijacking): Origin must be the site's own."""
    origin = request.headers.get("Origin")
    if origin != site_origin(request.app[CTX].settings):
        raise web.HTTPForbidden(
            text=orjson.dumps({"error": "cross-origin request refused"}).decode(), content_type="application/json"
        )


async def current_user(request: web.Request) -> dict[str, str] | None:
    """Who is signed in: the cookie's user, while the server still has the session it names alive."""
    session = await get_session(request)
    user = session.get(USER_KEY)
    if not isinstance(user, dict) or not isinstance(user.get("sid"), str):
        return None
    store, key, now = request.app[CTX].store, sessions.session_key(user["sid"]), datetime.now(UTC)
    record = await store.get_session(key)
    if record is None or not sessions.is_alive(record, user["id"], now):
        session.invalidate()
        return None
    if sessions.needs_touch(record, now):
        await store.touch_session(key, user["id"], now)
    return {"id": user["id"], "email": user.get("email", "")}


async def require_user(request: web.Request) -> dict[str, str]:
    user = await current_user(request)
    if user is None:
        raise web.HTTPUnauthorized(
            text=orjson.dumps({"error": "sign in first"}).decode(), content_type="application/json"
        )
    return user


def oauth_client(settings: Settings, token: dict[str, Any] | None = None, scope: str = SCOPE) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oauth_client_id,
        client_secret=settings.oauth_client_secret,
        scope=scope,
        redirect_uri=redirect_uri(settings),
        code_challenge_method="S256",
        token=token,
        timeout=20,
    )


def id_token_claims(id_token: str) -> dict[str, Any]:
    """Claims of an ID token received straight from the token endpoint over TLS.

    OIDC Core 3.1.3.7 lets such a client rely on TLS instead of the signature; the claims are still checked
    (verify_id_token).
    """
    try:
        payload = id_token.split(".")[1]
        claims: dict[str, Any] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims
    except (IndexError, ValueError) as exc:
        raise SignInError("malformed id_token") from exc


def verify_id_token(settings: Settings, claims: dict[str, Any], nonce: str, now: float) -> None:
    """OIDC Core 3.1.3.7: issuer, audience, expiry, issue time and nonce of the ID token of this login."""
    issuer = settings.oauth_issuer
    # Google's tokens name it with or without the scheme.
    if claims.get("iss") not in (issuer, issuer.removeprefix("https://")):
        raise SignInError("id_token comes from another issuer")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if settings.oauth_client_id not in audiences:
        raise SignInError("id_token was issued to another client")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp < now - CLOCK_SKEW_S:
        raise SignInError("id_token has expired")
    # Issued for this sign-in: just now, not in the future and not long ago.
    if not isinstance(iat, int | float) or isinstance(iat, bool) or abs(now - iat) > CLOCK_SKEW_S:
        raise SignInError("id_token was not issued just now")
    if not hmac.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise SignInError("id_token nonce mismatch")


def verify_identity(
    settings: Settings, token: dict[str, Any], userinfo: dict[str, Any], nonce: str, now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """The user id ("google:" + sub) and profile, after checking the ID token matches this login."""
    sub = userinfo.get("sub")
    if not isinstance(sub, str) or not sub:
        raise SignInError("userinfo has no subject")
    if not isinstance(token.get("id_token"), str):
        raise SignInError("no id_token (the openid scope always brings one)")
    claims = id_token_claims(token["id_token"])
    verify_id_token(settings, claims, nonce, time.time() if now is None else now)
    if claims.get("sub") != sub:
        raise SignInError("id_token and userinfo disagree about the user")
    profile = {"sub": sub, "email": userinfo.get("email"), "name": userinfo.get("name")}
    return f"google:{sub}", profile


async def login(request: web.Request) -> web.StreamResponse:
    """To the provider; with ?youtube=1 asking for YouTube access too, with a refresh token for the worker."""
    settings = request.app[CTX].settings
    verifier, nonce = generate_token(48), generate_token(24)
    youtube = request.query.get("youtube") == "1"
    # The YouTube grant needs offline access and fresh consent (a refresh token is only issued then).
    extra = {"access_type": "offline", "prompt": "consent"} if youtube else {}
    async with oauth_client(settings, scope=f"{SCOPE} {YOUTUBE_SCOPE}" if youtube else SCOPE) as client:
        url, state = client.create_authorization_url(
            settings.oauth_authorize_url,
            code_verifier=verifier,
            nonce=nonce,
            include_granted_scopes="true",
            **extra,
        )
    session = await get_session(request)
    session[LOGIN_KEY] = {"state": state, "verifier": verifier, "nonce": nonce, "youtube": youtube,
                          "next": local_path(request.query.get("next", "/"))}
    raise web.HTTPFound(url)


def local_path(target: str) -> str:
    """Where to go after sign-in: a path of this site, never another site (an open redirect); else "/"."""
    if (not target.startswith("/") or target.startswith(("//", "/\\")) or len(target) > 2000
            or any(c < " " or c == "\\" for c in target)):
        return "/"
    return target


async def _exchange(settings: Settings, code: str, pending: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    async with oauth_client(settings) as client:
        token = await client.fetch_token(settings.oauth_token_url, code=code, code_verifier=pending["verifier"])
        response = await client.get(settings.oauth_userinfo_url)
        response.raise_for_status()
        return dict(token), response.json()


async def callback(request: web.Request) -> web.StreamResponse:
    ctx = request.app[CTX]
    session = await get_session(request)
    pending = session.pop(LOGIN_KEY, None)
    query = request.query
    if "error" in query:
        # The provider's error code is not shown: a crafted link would make the site say anything.
        raise web.HTTPBadRequest(text="Sign-in was not completed; please try again.")
    state, code = query.get("state", ""), query.get("code", "")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters.
    if not isinstance(pending, dict) or not state or not hmac.compare_digest(
            state.encode(), str(pending.get("state", "")).encode()):
        raise web.HTTPBadRequest(text="Sign-in state mismatch (expired or forged); please sign in again.")
    if not code:
        raise web.HTTPBadRequest(text="Sign-in answer without a code.")
    try:
        token, userinfo = await _exchange(ctx.settings, code, pending)
        user_id, profile = verify_identity(ctx.settings, token, userinfo, pending["nonce"])
    except (OAuthError, SignInError, httpx.HTTPStatusError) as exc:
        log.warning("sign-in failed: %s", type(exc).__name__)
        raise web.HTTPBadRequest(text="Sign-in failed; please try again.") from exc
    except httpx.HTTPError as exc:
        log.warning("sign-in provider unreachable: %s", type(exc).__name__)
        raise web.HTTPBadGateway(text="The sign-in provider did not answer; please try again.") from exc
    # The token is kept only when it grants YouTube (with include_granted_scopes a plain sign-in may bring an
    # earlier YouTube grant along): an identity-only token is of no use to anybody later.
    youtube = grants_youtube(token)
    await ctx.store.save_user(user_id, profile, token if youtube else None)
    # A fresh session on privilege change (no fixation); the cookie carries who and which server-side session.
    session_id = sessions.new_session_id()
    await ctx.store.start_session(sessions.session_key(session_id), user_id, datetime.now(UTC))
    session = await new_session(request)
    session[USER_KEY] = {"id": user_id, "email": profile.get("email") or "", "sid": session_id}
    log.info("signed in %s", user_id)
    if pending.get("youtube") and not youtube:
        # The consent screen lets a user untick YouTube: their next playlist request asks again.
        log.info("%s did not grant YouTube access", user_id)
    raise web.HTTPFound(local_path(str(pending.get("next", "/"))))


async def logout(request: web.Request) -> web.StreamResponse:
    """End the session on the server too (a copied cookie stops working); with the form field
    disconnect=youtube also revoke the user's YouTube grant and delete the stored token."""
    check_origin(request)
    ctx = request.app[CTX]
    user = await current_user(request)
    if user is not None:
        if (await request.post()).get("disconnect") == "youtube":
            await disconnect(ctx.settings, ctx.store, user["id"])
        session = await get_session(request)
        await ctx.store.end_session(sessions.session_key(session[USER_KEY]["sid"]))
    (await get_session(request)).invalidate()
    raise web.HTTPSeeOther("/")


async def me(request: web.Request) -> web.Response:
    return web.json_response({"user": await current_user(request), "demo": request.app[CTX].settings.demo})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/auth/login", login)
    app.router.add_get("/auth/callback", callback)
    app.router.add_post("/auth/logout", logout)
    app.router.add_get("/api/v1/me", me)
