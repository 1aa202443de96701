import logging

from aiohttp import ClientSession, web

from web.access_log import RedactingAccessLogger, redact


def test_redact_hides_oauth_secrets_and_keeps_the_rest():
    assert redact("/auth/callback?state=s3cr3t&code=4/0Ab&scope=openid") == (
        "/auth/callback?state=REDACTED&code=REDACTED&scope=openid")
    assert redact("https://x/?a=1&CODE=z#code=y") == "https://x/?a=1&CODE=REDACTED#code=y"
    assert redact("/api/v1/query?genre=Jazz&decode=1") == "/api/v1/query?genre=Jazz&decode=1"


async def test_the_access_log_never_holds_the_code_or_state(caplog):
    async def callback(request):
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/auth/callback", callback)
    runner = web.AppRunner(app, access_log_class=RedactingAccessLogger)  # as `dataget web` runs the site
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            async with ClientSession() as http:
                resp = await http.get(f"http://127.0.0.1:{port}/auth/callback?code=4/0AbSECRET&state=STATE123",
                                      headers={"Referer": "https://accounts.example/?code=4/0AbSECRET"})
                assert resp.status == 200
    finally:
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 1 and "GET /auth/callback?code=REDACTED&state=REDACTED" in lines[0]
    assert "SECRET" not in lines[0] and "STATE123" not in lines[0]
