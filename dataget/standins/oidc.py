"""A stand-in of Google's OAuth2/OIDC provider (aiohttp, background thread): sign-in for `dataget demo` and tests.

- `GET /authorize` auto-approves the configured user: 302 back to redirect_uri with code and state. With
  `consent_page=True` it shows a page whose "Sign in as ..." button approves (POST /authorize), as a person would.
- `POST /token`: authorization_code (PKCE S256 checked, redirect_uri must match) and refresh_token grants,
  client auth by HTTP Basic or form fields. Like Google, a refresh answer carries no new refresh token.
- `GET /userinfo` with a Bearer access token.
- `POST /revoke` (token=...): like Google's, revoking either token of a grant ends the whole grant.
- Scopes: with include_granted_scopes=true a grant adds to what the user granted before; `withheld_scopes` are
  ones the user unticks on the consent screen (Google's granular consent), so they are not granted.
Use `settings.with_(**fake.settings_overrides())` to point the site or the YouTube worker at it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

from aiohttp import BasicAuth, web

from dataget.standins.serve import BackgroundServer

DEFAULT_USER = {"sub": "1234567890", "email": "listener@example.com", "name": "Test Listener"}


@dataclass
class IssuedToken:
    access_token: str
    refresh_token: str | None
    sub: str
    grant_type: str
    expires_at: float
    scope: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str | None
    nonce: str | None
    scope: str
    offline: bool
    user: dict[str, str]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode()).digest())


@dataclass
class FakeOIDC:
    client_id: str = "dataget-test"
    client_secret: str = "dataget-test-secret"
    access_token_lifetime: int = 3600
    user: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_USER))
    # Authorization requests as received (query dicts), for assertions on scope, access_type, prompt ...
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    issued: list[IssuedToken] = field(default_factory=list)
    # Token endpoint calls and their outcome ("ok" or the OAuth error code).
    token_requests: list[tuple[str, str]] = field(default_factory=list)
    # Tokens revoked at /revoke, as posted.
    revoked: list[str] = field(default_factory=list)
    withheld_scopes: set[str] = field(default_factory=set)
    # Claims to put into (or, with value None, leave out of) the next ID tokens: iss, exp, iat ...
    id_token_overrides: dict[str, Any] = field(default_factory=dict)
    # A consent page to click through instead of approving at once (`dataget demo`).
    consent_page: bool = False

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, tuple[dict[str, str], str]] = {}
        self._users: dict[str, dict[str, str]] = {}
        self._granted: dict[str, set[str]] = {}
        self._server = BackgroundServer(self._app, "fake-oidc")

    # ----- lifecycle -----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if not self._server.port:
            raise RuntimeError("FakeOIDC is not started")
        return f"http://127.0.0.1:{self._server.port}"

    def settings_overrides(self) -> dict[str, str]:
        return {
            "oauth_client_id": self.client_id,
            "oauth_client_secret": self.client_secret,
            "oauth_authorize_url": f"{self.url}/authorize",
            "oauth_token_url": f"{self.url}/token",
            "oauth_userinfo_url": f"{self.url}/userinfo",
            "oauth_revoke_url": f"{self.url}/revoke",
            "oauth_issuer": self.url,
        }

    def start(self) -> FakeOIDC:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeOIDC:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- inspection and control from tests -------------------------------------------------------------
    def is_valid_access_token(self, token: str) -> bool:
        with self._lock:
            return any(t.access_token == token and t.expires_at > time.time() for t in self.issued)

    def subject_of(self, access_token: str) -> str | None:
        """The user `sub` of a valid access token (None when unknown or expired)."""
        with self._lock:
            for t in self.issued:
                if t.access_token == access_token and t.expires_at > time.time():
                    return t.sub
        return None

    def expire_access_tokens(self) -> None:
        """Make every issued access token expire now (forces a refresh)."""
        with self._lock:
            for t in self.issued:
                t.expires_at = 0

    def revoke_refresh_tokens(self) -> None:
        """Later refreshes fail with invalid_grant, like a revoked or expired Google grant."""
        with self._lock:
            self._refresh.clear()

    # ----- the provider ----------------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/authorize", self._approve)
        app.router.add_post("/token", self._token)
        app.router.add_get("/userinfo", self._userinfo)
        app.router.add_post("/revoke", self._revoke)
        return app

    async def _authorize(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        with self._lock:
            self.authorize_requests.append(q)
        refused = self._refusal(q)
        if refused is not None:
            return refused
        if self.consent_page:
            return self._consent(q)
        return self._grant(q)

    async def _approve(self, request: web.Request) -> web.Response:
        """The consent page's button: the authorization request comes back as form fields."""
        q = {k: str(v) for k, v in (await request.post()).items()}
        return self._refusal(q) or self._grant(q)

    def _refusal(self, q: dict[str, str]) -> web.Response | None:
        if q.get("client_id") != self.client_id or q.get("response_type") != "code" or "redirect_uri" not in q:
            return web.json_response({"error": "invalid_request"}, status=400)
        if q.get("code_challenge") and q.get("code_challenge_method") != "S256":
            return web.json_response({"error": "invalid_request", "error_description": "S256 only"}, status=400)
        return None

    def _consent(self, q: dict[str, str]) -> web.Response:
        fields = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in q.items())
        scopes = "".join(f"<li>{escape(s)}</li>" for s in q.get("scope", "").split())
        page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in (local stand-in)</title>'
                f'</head><body><h1>Local stand-in of Google sign-in</h1><p>The site asks for:</p><ul>{scopes}</ul>'
                f'<form method="post" action="/authorize">{fields}<button id="approve" type="submit">'
                f'Sign in as {escape(self.user.get("name", "demo user"))}</button></form></body></html>')
        return web.Response(text=page, content_type="text/html")

    def _grant(self, q: dict[str, str]) -> web.Response:
        code = secrets.token_urlsafe(16)
        with self._lock:
            user = dict(self.user)
            self._users[user["sub"]] = user
            granted = {s for s in q.get("scope", "").split() if s not in self.withheld_scopes}
            if q.get("include_granted_scopes") == "true":
                granted |= self._granted.get(user["sub"], set())
            self._granted[user["sub"]] = granted
            self._codes[code] = _Code(
                client_id=q["client_id"],
                redirect_uri=q["redirect_uri"],
                challenge=q.get("code_challenge"),
                nonce=q.get("nonce"),
                scope=" ".join(sorted(granted)),
                offline=q.get("access_type") == "offline",
                user=user,
            )
        back = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        raise web.HTTPFound(f"{q['redirect_uri']}?{urlencode(back)}")

    def _client_ok(self, request: web.Request, form: dict[str, str]) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            auth = BasicAuth.decode(header)
            client_id, secret = auth.login, auth.password
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and hmac.compare_digest(secret, self.client_secret)

    def _id_token(self, user: dict[str, str], nonce: str | None) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.client_id,
            "sub": user["sub"],
            "email": user.get("email"),
            "iat": now,
            "exp": now + 3600,
            **({"nonce": nonce} if nonce else {}),
        }
        for name, value in self.id_token_overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims).encode())
        sig = hmac.new(self.client_secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(sig)}"

    def _issue(self, user: dict[str, str], scope: str, grant: str, refresh: str | None) -> IssuedToken:
        token = IssuedToken(
            access_token=f"ya29.{secrets.token_urlsafe(24)}",
            refresh_token=refresh,
            sub=user["sub"],
            grant_type=grant,
            expires_at=time.time() + self.access_token_lifetime,
            scope=scope,
        )
        self.issued.append(token)
        return token

    def _error(self, grant: str, error: str, status: int = 400) -> web.Response:
        self.token_requests.append((grant, error))
        return web.json_response({"error": error}, status=status)

    async def _token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        grant = form.get("grant_type", "")
        with self._lock:
            if not self._client_ok(request, form):
                return self._error(grant, "invalid_client", 401)
            if grant == "authorization_code":
                return self._code_grant(form)
            if grant == "refresh_token":
                return self._refresh_grant(form)
            return self._error(grant, "unsupported_grant_type")

    def _code_grant(self, form: dict[str, str]) -> web.Response:
        code = self._codes.pop(form.get("code", ""), None)  # single use
        if code is None or code.redirect_uri != form.get("redirect_uri"):
            return self._error("authorization_code", "invalid_grant")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            if not hmac.compare_digest(s256(verifier), code.challenge):
                return self._error("authorization_code", "invalid_grant")
        refresh = f"1//{secrets.token_urlsafe(32)}" if code.offline else None
        if refresh is not None:
            self._refresh[refresh] = (code.user, code.scope)
        token = self._issue(code.user, code.scope, "authorization_code", refresh)
        self.token_requests.append(("authorization_code", "ok"))
        body: dict[str, Any] = {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "expires_in": self.access_token_lifetime,
            "scope": code.scope,
        }
        if refresh is not None:
            body["refresh_token"] = refresh
        if "openid" in code.scope.split():
            body["id_token"] = self._id_token(code.user, code.nonce)
        return web.json_response(body)

    def _refresh_grant(self, form: dict[str, str]) -> web.Response:
        grant = self._refresh.get(form.get("refresh_token", ""))
        if grant is None:
            return self._error("refresh_token", "invalid_grant")
        user, scope = grant
        token = self._issue(user, scope, "refresh_token", None)
        self.token_requests.append(("refresh_token", "ok"))
        return web.json_response(
            {
                "access_token": token.access_token,
                "token_type": "Bearer",
                "expires_in": self.access_token_lifetime,
                "scope": scope,
            }
        )

    async def _userinfo(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        sub = self.subject_of(header.removeprefix("Bearer ")) if header.startswith("Bearer ") else None
        if sub is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        with self._lock:
            user = self._users.get(sub, {"sub": sub})
        return web.json_response({**user, "email_verified": True})

    async def _revoke(self, request: web.Request) -> web.Response:
        token = str((await request.post()).get("token", ""))
        with self._lock:
            self.revoked.append(token)
            grant = next((t for t in self.issued if token in (t.access_token, t.refresh_token)), None)
            if grant is None:
                return web.json_response({"error": "invalid_token"}, status=400)
            for t in self.issued:
                if t.sub == grant.sub:
                    t.expires_at = 0
            self._refresh = {r: g for r, g in self._refresh.items() if g[0]["sub"] != grant.sub}
            self._granted.pop(grant.sub, None)
        return web.Response()
