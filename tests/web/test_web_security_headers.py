import pytest
from web_fakes import FakeIndex, FakeStore, ListPublisher, web_settings

from web.app import create_app
from web.security_headers import content_security_policy


@pytest.fixture
async def client(aiohttp_client):
    app = create_app(web_settings(public_base_url="https://dataget.example"), index=FakeIndex().provider,
                     store=FakeStore(), publisher=ListPublisher(), follow_status_topic=False)
    return await aiohttp_client(app)


@pytest.mark.parametrize("path", ["/", "/static/app.js", "/api/v1/query", "/api/v1/releases/x", "/no/such/page"])
async def test_every_response_carries_the_security_headers(client, path):
    resp = await client.get(path)
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert "aiohttp" not in resp.headers["Server"] and "Python" not in resp.headers["Server"]


def test_the_policy_allows_the_page_and_the_youtube_player_and_nothing_else():
    policy = dict(part.split(" ", 1) for part in content_security_policy("HTTPS://dataget.example").split("; "))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self' https://www.youtube.com"  # no inline script, no eval
    assert "https://www.youtube.com" in policy["frame-src"]
    assert policy["connect-src"] == "'self' wss://dataget.example"
    assert policy["style-src"] == "'self'"
