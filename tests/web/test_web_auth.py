from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pymongo import MongoClient
from web_fakes import ORIGIN, FakeIndex, FakeStore, ListPublisher, provider_roundtrip, sign_in, web_settings
from yarl import URL

from dataget.standins.oidc import FakeOIDC, s256
from sinks.user_tokens import UserTokenStore
from web.app import create_app
from web.auth import SCOPE, local_path
from web.housekeeping import forget_idle_users
from web.sessions import USER_RETENTION
from web.site_store import SiteStore
from web.youtube_access import YOUTUBE_SCOPE


def make_app(oidc, store, public_base_url=ORIGIN, **changes):
    settings = web_settings(public_base_url=public_base_url, **{**oidc.settings_overrides(), **changes})
    return create_app(
        settings, index=FakeIndex().provider, store=store, publisher=ListPublisher(), follow_status_topic=False
    )


async def test_login_asks_who_the_user_is_and_youtube_only_when_asked(aiohttp_client, oidc):
    client = await aiohttp_client(make_app(oidc, FakeStore(), public_base_url="https://dataget.test"))
    resp = await client.get("/auth/login", allow_redirects=False)
    assert resp.status == 302
    url = URL(resp.headers["Location"])
    assert str(url.with_query(None)) == f"{oidc.url}/authorize"
    q = url.query
    assert q["redirect_uri"] == "https://dataget.test/auth/callback"
    assert q["scope"] == SCOPE == "openid email profile"
    assert "access_type" not in q and "prompt" not in q and q["code_challenge_method"] == "S256"
    assert q["state"] and q["nonce"] and len(q["code_challenge"]) == 43
    cookie = resp.headers["Set-Cookie"]
    assert "SameSite=Lax" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    youtube = URL((await client.get("/auth/login?youtube=1", allow_redirects=False)).headers["Location"]).query
    assert youtube["scope"] == f"{SCOPE} {YOUTUBE_SCOPE}"
    assert (youtube["access_type"], youtube["prompt"], youtube["include_granted_scopes"]) == (
        "offline", "consent", "true")


async def test_full_sign_in_stores_tokens_and_session(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    await sign_in(client)
    user_id = f"google:{oidc.user['sub']}"
    me = await (await client.get("/api/v1/me")).json()
    assert me == {"user": {"id": user_id, "email": oidc.user["email"]}, "demo": False}
    token = store.tokens[user_id]
    assert oidc.is_valid_access_token(token["access_token"])
    assert token["refresh_token"].startswith("1//")
    assert store.users[user_id]["email"] == oidc.user["email"]
    # The cookie carries who is signed in, never the tokens (it is encrypted, so check its size too).
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))["dataget_session"].value
    assert token["access_token"] not in cookie and len(cookie) < 1000


async def test_sign_out_needs_same_origin(aiohttp_client, oidc):
    client = await aiohttp_client(make_app(oidc, FakeStore()))
    await sign_in(client)
    refused = await client.post("/auth/logout", headers={"Origin": "https://evil.test"}, allow_redirects=False)
    assert refused.status == 403
    assert (await (await client.get("/api/v1/me")).json())["user"] is not None
    done = await client.post("/auth/logout", headers={"Origin": ORIGIN}, allow_redirects=False)
    assert done.status == 303
    assert (await (await client.get("/api/v1/me")).json())["user"] is None


async def test_state_mismatch_is_rejected(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    login = await client.get("/auth/login", allow_redirects=False)
    async with httpx.AsyncClient() as browser:
        answer = await browser.get(login.headers["Location"])
    back = URL(answer.headers["Location"])
    forged = back.update_query(state="forged")
    resp = await client.get(forged.path_qs, allow_redirects=False)
    assert resp.status == 400
    assert "state" in await resp.text()
    assert store.tokens == {}


async def test_callback_without_login_is_rejected(aiohttp_client, oidc):
    client = await aiohttp_client(make_app(oidc, FakeStore()))
    resp = await client.get("/auth/callback?code=x&state=y", allow_redirects=False)
    assert resp.status == 400


async def test_provider_error_is_reported_without_echoing_it(aiohttp_client, oidc):
    client = await aiohttp_client(make_app(oidc, FakeStore()))
    await client.get("/auth/login", allow_redirects=False)
    resp = await client.get("/auth/callback?error=Call+0800+now+to+restore+your+account", allow_redirects=False)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert "not completed" in error and "0800" not in error


async def test_wrong_client_secret_fails_sign_in(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store, oauth_client_secret="wrong"))
    resp = await provider_roundtrip(client)
    assert resp.status == 400
    assert ("authorization_code", "invalid_client") in oidc.token_requests
    assert store.tokens == {}


async def authorize_code(http, fake, verifier):
    """A code for redirect_uri http://x/cb straight from the fake's authorize endpoint."""
    params = {
        "client_id": fake.client_id,
        "response_type": "code",
        "redirect_uri": "http://x/cb",
        "scope": SCOPE,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
        "access_type": "offline",
    }
    answer = await http.get(f"{fake.url}/authorize", params=params)
    return URL(answer.headers["Location"]).query["code"]


def token_form(fake, **fields):
    return {"client_id": fake.client_id, "client_secret": fake.client_secret, **fields}


async def test_fake_checks_pkce_verifier(oidc):
    verifier = "v" * 50
    async with httpx.AsyncClient() as http:
        code = await authorize_code(http, oidc, verifier)
        form = token_form(oidc, grant_type="authorization_code", code=code, redirect_uri="http://x/cb")
        bad = await http.post(f"{oidc.url}/token", data={**form, "code_verifier": "w" * 50})
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid_grant")
        # A code is single-use: the failed attempt consumed it.
        again = await http.post(f"{oidc.url}/token", data={**form, "code_verifier": verifier})
        assert again.status_code == 400


async def test_fake_refresh_grant_expiry_and_revocation():
    with FakeOIDC() as fake:
        verifier = "p" * 48
        async with httpx.AsyncClient() as http:
            code = await authorize_code(http, fake, verifier)
            first = (
                await http.post(
                    f"{fake.url}/token",
                    data=token_form(
                        fake,
                        grant_type="authorization_code",
                        code=code,
                        redirect_uri="http://x/cb",
                        code_verifier=verifier,
                    ),
                )
            ).json()
            assert fake.is_valid_access_token(first["access_token"])
            fake.expire_access_tokens()
            assert not fake.is_valid_access_token(first["access_token"])
            refresh = token_form(fake, grant_type="refresh_token", refresh_token=first["refresh_token"])
            refreshed = (await http.post(f"{fake.url}/token", data=refresh)).json()
            assert "refresh_token" not in refreshed
            assert fake.is_valid_access_token(refreshed["access_token"])
            fake.revoke_refresh_tokens()
            dead = await http.post(f"{fake.url}/token", data=refresh)
            assert dead.json()["error"] == "invalid_grant"


@pytest.mark.stack
async def test_sign_in_stores_tokens_encrypted_in_mongo(aiohttp_client, oidc, isolated_settings):
    settings = web_settings(**{k: getattr(isolated_settings, k) for k in ("mongo_url", "mongo_db")})
    store = SiteStore(settings)
    raw = MongoClient(settings.mongo_url)
    try:
        client = await aiohttp_client(make_app(oidc, store, mongo_db=settings.mongo_db, token_key=settings.token_key))
        await sign_in(client)
        user_id = f"google:{oidc.user['sub']}"
        db = raw[settings.app_mongo_db]
        doc = db["user_tokens"].find_one({"_id": user_id})
        token = UserTokenStore(db, settings.token_key).load(user_id)
        assert token is not None and token["refresh_token"].startswith("1//")
        assert token["refresh_token"] not in str(doc)
        assert token["access_token"] not in str(doc)
        assert db["users"].find_one({"_id": user_id})["email"] == oidc.user["email"]
    finally:
        await store.close()
        raw.close()


async def test_https_sites_use_a_host_only_cookie_whatever_the_scheme_case(aiohttp_client, oidc):
    client = await aiohttp_client(make_app(oidc, FakeStore(), public_base_url="HTTPS://Dataget.Test"))
    resp = await client.get("/auth/login", allow_redirects=False)
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("__Host-dataget_session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    # Origin checks compare what browsers send: lower case.
    refused = await client.post("/auth/logout", headers={"Origin": "https://evil.test"}, allow_redirects=False)
    assert refused.status == 403
    ok = await client.post("/auth/logout", headers={"Origin": "https://dataget.test"}, allow_redirects=False)
    assert ok.status == 303


@pytest.mark.parametrize("claims", [
    {"iss": "https://accounts.evil.test"},
    {"iss": None},
    {"exp": 1_000_000_000},  # 2001
    {"exp": None},
    {"iat": 4_000_000_000},  # 2096: not issued just now
    {"iat": 1_000_000_000},
    {"iat": "now"},
    {"aud": "another-client"},
    {"nonce": "é-replayed"},
])
async def test_an_id_token_that_fails_an_oidc_check_signs_nobody_in(aiohttp_client, oidc, claims):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    oidc.id_token_overrides.update(claims)
    try:
        resp = await provider_roundtrip(client)
    finally:
        oidc.id_token_overrides.clear()
    assert resp.status == 400
    assert store.tokens == {} and (await (await client.get("/api/v1/me")).json())["user"] is None


PLAYLIST = {"title": "Jazz", "query": {"genre": ["Jazz"]}, "max_videos": 3}


async def test_youtube_access_is_asked_for_on_the_first_playlist(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    await sign_in(client, youtube=False)
    assert store.tokens == {}  # an identity-only token is not kept
    refused = await client.post("/api/v1/playlists", json=PLAYLIST, headers={"Origin": ORIGIN})
    assert refused.status == 403
    assert (await refused.json())["connect"] == "/auth/login?youtube=1"
    await sign_in(client, youtube=True)
    [token] = store.tokens.values()
    assert YOUTUBE_SCOPE in token["scope"].split() and token["refresh_token"]
    assert (await client.post("/api/v1/playlists", json=PLAYLIST, headers={"Origin": ORIGIN})).status == 202


async def test_a_youtube_scope_the_user_unticked_is_not_taken_as_granted(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    oidc.withheld_scopes.add(YOUTUBE_SCOPE)
    usual, oidc.user = oidc.user, {"sub": "555", "email": "new@example.com"}  # granted nothing before
    try:
        done = await provider_roundtrip(client, youtube=True)
    finally:
        oidc.withheld_scopes.clear()
        oidc.user = usual
    assert done.status == 302 and store.tokens == {}
    assert (await client.post("/api/v1/playlists", json=PLAYLIST, headers={"Origin": ORIGIN})).status == 403


async def test_sign_in_returns_to_the_page_it_left_and_nowhere_else(aiohttp_client, oidc):
    client = await aiohttp_client(make_app(oidc, FakeStore()))
    await client.get("/auth/login?youtube=1&next=/%3Fgenre%3DJazz", allow_redirects=False)
    login = await client.get("/auth/login?youtube=1&next=/%3Fgenre%3DJazz", allow_redirects=False)
    async with httpx.AsyncClient() as browser:
        back = URL((await browser.get(login.headers["Location"])).headers["Location"])
    done = await client.get(back.path_qs, allow_redirects=False)
    assert done.headers["Location"] == "/?genre=Jazz"


@pytest.mark.parametrize(("target", "kept"), [
    ("/?genre=Jazz", True), ("/releases/7", True), ("//evil.test/x", False), ("/\\evil.test", False),
    ("https://evil.test/", False), ("javascript:alert(1)", False), ("/a\nb", False), ("", False),
])
def test_local_path(target, kept):
    assert local_path(target) == (target if kept else "/")


def cookie_of(client):
    return client.session.cookie_jar.filter_cookies(client.make_url("/"))["dataget_session"].value


async def test_sign_out_ends_the_session_on_the_server(aiohttp_client, oidc):
    store = FakeStore()
    app = make_app(oidc, store)
    client = await aiohttp_client(app)
    await sign_in(client)
    copied = cookie_of(client)
    done = await client.post("/auth/logout", headers={"Origin": ORIGIN}, allow_redirects=False)
    assert done.status == 303 and store.sessions == {}
    thief = await aiohttp_client(app)
    thief.session.cookie_jar.update_cookies({"dataget_session": copied})
    assert (await (await thief.get("/api/v1/me")).json())["user"] is None
    assert (await thief.post("/api/v1/playlists", json=PLAYLIST, headers={"Origin": ORIGIN})).status == 401


@pytest.mark.parametrize(("created_ago", "seen_ago", "alive"), [
    (timedelta(days=29), timedelta(days=6), True),
    (timedelta(days=29), timedelta(days=8), False),  # idle too long
    (timedelta(days=31), timedelta(minutes=1), False),  # too old, however busy
])
async def test_sessions_end_when_idle_or_too_old(aiohttp_client, oidc, created_ago, seen_ago, alive):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    await sign_in(client)
    [record] = store.sessions.values()
    now = datetime.now(UTC)
    record.update(created_at=now - created_ago, seen_at=now - seen_ago)
    assert ((await (await client.get("/api/v1/me")).json())["user"] is not None) == alive
    if alive:  # use is recorded (at most every few minutes)
        assert now - record["seen_at"] < timedelta(minutes=1)


async def test_a_cookie_without_a_server_session_signs_nobody_in(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    await sign_in(client)
    store.sessions.clear()  # as after a sign-out elsewhere, or a cookie from before server-side sessions
    assert (await (await client.get("/api/v1/me")).json())["user"] is None


async def test_sign_out_can_disconnect_youtube(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store))
    await sign_in(client)
    [token] = store.tokens.values()
    done = await client.post("/auth/logout", data={"disconnect": "youtube"}, headers={"Origin": ORIGIN},
                             allow_redirects=False)
    assert done.status == 303
    assert token["refresh_token"] in oidc.revoked and store.tokens == {}
    async with httpx.AsyncClient() as http:  # the grant is gone at the provider too
        refresh = token_form(oidc, grant_type="refresh_token", refresh_token=token["refresh_token"])
        assert (await http.post(f"{oidc.url}/token", data=refresh)).json()["error"] == "invalid_grant"


async def test_disconnect_deletes_the_token_even_when_the_provider_is_down(aiohttp_client, oidc):
    store = FakeStore()
    client = await aiohttp_client(make_app(oidc, store, oauth_revoke_url="http://127.0.0.1:9/revoke"))
    await sign_in(client)
    await client.post("/auth/logout", data={"disconnect": "youtube"}, headers={"Origin": ORIGIN})
    assert store.tokens == {}


async def test_users_gone_for_long_are_forgotten():
    store = FakeStore()
    now = datetime.now(UTC)
    for user_id, seen in (("google:old", now - USER_RETENTION - timedelta(days=1)), ("google:recent", now)):
        await store.save_user(user_id, {}, {"access_token": "a", "refresh_token": "r"})
        store.users[user_id]["last_seen"] = seen
        await store.start_session(f"s-{user_id}", user_id, seen)
    await forget_idle_users(store, now)
    assert set(store.tokens) == {"google:recent"} and set(store.sessions) == {"s-google:recent"}
