"""The page in headless Chromium: pick a facet through autocomplete, see the count and the sample appear."""

import asyncio
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from web_fakes import FakeIndex, FakeStore, ListPublisher, web_settings

from web.app import create_app

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="Debian chromium/chromedriver not installed"
)


@pytest.fixture
def site_url() -> Iterator[str]:
    """The app with a fake index, served from a thread (selenium blocks the test's own loop)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, object] = {}

    async def serve() -> None:
        app = create_app(
            web_settings(),
            index=FakeIndex().provider,
            store=FakeStore(),
            publisher=ListPublisher(),
            follow_status_topic=False,
        )
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        state["runner"], state["port"] = runner, runner.addresses[0][1]
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(10)
    yield f"http://127.0.0.1:{state['port']}"
    asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
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
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_pick_a_genre_and_see_count_and_sample(site_url, browser):
    browser.get(site_url)
    wait = WebDriverWait(browser, 20)
    # Unfiltered first: the whole fake catalogue (40 releases).
    wait.until(ec.text_to_be_present_in_element((By.ID, "count-releases"), "40"))
    assert browser.find_element(By.ID, "sign-in").is_displayed()

    genre = browser.find_element(By.ID, "facet-genre")
    genre.click()
    genre.send_keys("ja")
    suggestion = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".facet .suggestions li[data-value='Jazz']")))
    assert "10" in suggestion.text
    suggestion.click()

    wait.until(ec.text_to_be_present_in_element((By.ID, "count-releases"), "10"))
    assert browser.find_element(By.ID, "count-videos").text == "20"
    chips = browser.find_elements(By.CSS_SELECTOR, ".chip")
    assert [c.text for c in chips] == ["Jazz"]
    links = browser.find_elements(By.CSS_SELECTOR, "#sample li a:first-child")
    assert len(links) == 20
    assert links[0].get_attribute("href").startswith("https://www.youtube.com/watch?v=vid")
    assert links[0].text.startswith("Title of vid")

    # Removing the chip goes back to everything.
    chips[0].click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "count-releases"), "40"))
