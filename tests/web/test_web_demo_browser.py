"""`dataget demo`'s wiring in headless Chromium: the site and the YouTube worker on the real stack, signing in and
building playlists on the local stand-ins of Google and YouTube. A newcomer's path: the banner, the stand-in's
consent page, a playlist that reaches `done` live."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from browser_support import HAVE_CHROMIUM, index_releases, releases_with_videos, serving
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from web_fakes import web_settings

from dataget.commands.demo import stand_ins
from dataget.stack.process import free_port
from runtime.settings import Settings, settings_env
from web.app import create_app

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian chromium/chromedriver not installed")

BANNER = "demo: playlists are built on a local stand-in, not on YouTube"


@pytest.fixture
def demo_site(isolated_settings: Settings, dataget_bin: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The demo's site (this process) and YouTube worker (`dataget youtube-worker`, as the demo runs it) on the
    stand-ins, over the real index of the fixture releases: the site's URL and the genre most releases have."""
    releases = releases_with_videos()
    port, secrets = free_port(), web_settings()
    settings = isolated_settings.with_(web_port=port, public_base_url=f"http://127.0.0.1:{port}",
                                       session_secret=secrets.session_secret, token_key=secrets.token_key,
                                       rate_limit_per_s=0.0)
    asyncio.run(index_releases(settings, releases))
    genre = Counter(g for r in releases.values() for g in r.get("genres") or []).most_common(1)[0][0]
    log = tmp_path / "youtube-worker.log"
    with stand_ins(settings) as demo, log.open("wb") as out:
        worker = subprocess.Popen([str(dataget_bin), "youtube-worker", "--tick", "0.5"],
                                  env={**os.environ, **settings_env(demo)}, stdout=out, stderr=subprocess.STDOUT)
        try:
            with serving(partial(create_app, demo), port) as (url, _loop):
                yield url, genre
        finally:
            worker.terminate()
            worker.wait(30)
            print("youtube-worker:", log.read_text()[-3000:])  # shown when the test fails


def approve_at_the_stand_in(browser: WebDriver, wait: WebDriverWait, site: str) -> None:
    wait.until(ec.element_to_be_clickable((By.ID, "approve")))
    assert not browser.current_url.startswith(site) and "Local stand-in" in browser.page_source
    browser.find_element(By.ID, "approve").click()
    wait.until(lambda b: b.current_url.startswith(site))


def ask_for_playlist(browser: WebDriver, wait: WebDriverWait, genre: str) -> None:
    wait.until(ec.visibility_of_element_located((By.ID, "playlist-form")))
    wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".chip")))  # the selection came back from the URL
    browser.find_element(By.ID, "pl-title").send_keys(f"{genre} from the demo")
    videos = browser.find_element(By.ID, "pl-max")
    videos.clear()
    videos.send_keys("5", Keys.ENTER)


def test_sign_in_at_the_stand_in_and_watch_a_playlist_reach_done(demo_site, browser):
    site, genre = demo_site
    wait = WebDriverWait(browser, 60)
    browser.get(site)
    banner = wait.until(ec.visibility_of_element_located((By.ID, "demo-banner")))
    assert banner.text == BANNER

    browser.find_element(By.ID, "sign-in").click()
    approve_at_the_stand_in(browser, wait, site)
    wait.until(ec.visibility_of_element_located((By.ID, "playlist-form")))
    assert browser.find_element(By.ID, "user-email").text == "demo@dataget.invalid"

    browser.find_element(By.ID, "facet-genre").send_keys(genre, Keys.ENTER)
    wait.until(lambda b: f"genre={genre}" in b.current_url)
    ask_for_playlist(browser, wait, genre)
    # The first playlist asks for YouTube access on top of the sign-in: the stand-in's consent page again.
    approve_at_the_stand_in(browser, wait, site)
    assert f"genre={genre}" in browser.current_url
    ask_for_playlist(browser, wait, genre)

    wait.until(ec.text_to_be_present_in_element((By.ID, "job-state"), "Done"))
    # Every video is one on the stand-in (the fixture releases' ids are well formed): none skipped.
    assert browser.find_element(By.ID, "job-numbers").text == "5 / 5"
    link = browser.find_element(By.CSS_SELECTOR, "#job-result a").get_attribute("href")
    assert "list=PL" in link
    assert browser.find_element(By.ID, "demo-banner").text == BANNER
