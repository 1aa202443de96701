"""Headless Chromium for the page tests, the site served from a thread for it to open, and the fixture releases
with videos indexed in the real Redis for the site to show."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from aiohttp import web
from fixture_records import fixture_records
from redis.asyncio import Redis
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from sinks.facets import release_videos
from sinks.index_versions import ActiveIndex

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
HAVE_CHROMIUM = CHROMIUM.exists() and CHROMEDRIVER.exists()


def releases_with_videos() -> dict[int, dict[str, Any]]:
    return {rid: r for rid, r in fixture_records("releases").items() if release_videos(r)}


async def index_releases(settings: Any, releases: dict[int, dict[str, Any]]) -> None:
    redis = Redis.from_url(settings.redis_url)
    try:
        await ActiveIndex(redis, settings.namespace).apply_releases(list(releases.items()))
    finally:
        await redis.aclose()


@contextlib.contextmanager
def serving(make_app: Callable[[], web.Application], port: int = 0) -> Iterator[tuple[str, asyncio.AbstractEventLoop]]:
    """The app served from a thread (selenium blocks the test's own loop): its URL and its loop."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, object] = {}

    async def serve() -> None:
        runner = web.AppRunner(make_app())
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        state["runner"], state["port"] = runner, runner.addresses[0][1]
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{state['port']}", loop
    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 1000) -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="dataget-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def color_scheme(driver: webdriver.Chrome, scheme: str) -> None:
    """What prefers-color-scheme says from now on: "light" or "dark"."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                           {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def phone(driver: webdriver.Chrome, width: int = 390, height: int = 844) -> None:
    """Emulate a phone's screen (CSS pixels, touch, the page's viewport meta honoured)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})


def full_page_png(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page, not only what the window shows."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    width = driver.execute_script("return document.documentElement.clientWidth")
    clip = {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "captureBeyondViewport": True, "clip": clip})
    path.write_bytes(base64.b64decode(shot["data"]))
