"""The site in headless Chromium on the real index of the fixture releases: the address is the selection,
suggestions count what the API counts, Enter and Escape behave, the record and 404 pages, phone width, dark mode,
and axe-core finds no serious or critical accessibility problem. Screenshots of the main page (desktop and phone,
light and dark) and of a release page go to test-output/screenshots/ for a reviewer to look at."""

from __future__ import annotations

import asyncio
import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from browser_support import (
    HAVE_CHROMIUM,
    chromium,
    color_scheme,
    full_page_png,
    index_releases,
    phone,
    releases_with_videos,
    serving,
)
from fixture_records import fixture_records
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from web_fakes import FakeStore, ListPublisher, web_settings

from web.app import create_app

pytestmark = pytest.mark.skipif(not HAVE_CHROMIUM, reason="Debian chromium/chromedriver not installed")

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
FAKE_IFRAME_API = Path(__file__).parents[1] / "fakes" / "youtube_iframe_api.js"
REPO = Path(__file__).resolve().parents[2]
# What axe-core reports and the test refuses.
REFUSED_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="module")
def screenshots() -> Path:
    out = Path(os.environ.get("DATAGET_TEST_OUTPUT", REPO / "test-output")) / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def site(isolated_settings) -> Iterator[str]:
    """The site over the real Redis index of the fixture releases; records from a fake store; no rate limit (the
    page asks for each picker's counts)."""
    releases = releases_with_videos()
    asyncio.run(index_releases(isolated_settings, releases))
    secrets = web_settings()
    settings = isolated_settings.with_(session_secret=secrets.session_secret, token_key=secrets.token_key,
                                       rate_limit_per_s=0.0)
    store = FakeStore(releases=releases, masters=fixture_records("masters"))

    def make_app() -> Any:
        return create_app(settings, store=store, publisher=ListPublisher(), follow_status_topic=False)

    with serving(make_app) as (url, _loop):
        yield url


def api(site: str, path: str, params: list[tuple[str, str]]) -> Any:
    with urllib.request.urlopen(f"{site}{path}?{urlencode(params)}") as resp:
        return json.load(resp)


def selection(browser: WebDriver) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in parse_qsl(urlsplit(browser.current_url).query) if k != "seed")


def facet_chips(browser: WebDriver, facet: str) -> list[str]:
    picker = browser.find_element(By.ID, f"facet-{facet}").find_element(By.XPATH, "ancestor::div[@class='facet']")
    return [c.text for c in picker.find_elements(By.CSS_SELECTOR, ".chip")]


def wait_counts(browser: WebDriver, site: str, params: list[tuple[str, str]]) -> dict[str, Any]:
    """Waits until the page shows the API's counts for params; returns the API's answer."""
    expected = api(site, "/api/v1/query", params)
    WebDriverWait(browser, 20).until(
        lambda b: b.find_element(By.ID, "count-releases").text == f"{expected['releases']:,}"
        and b.find_element(By.ID, "results").get_attribute("aria-busy") == "false")
    return expected


def suggestions(browser: WebDriver, facet: str) -> list[tuple[str, str]]:
    items = WebDriverWait(browser, 20).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, f"#facet-{facet}-list:not([hidden]) li[role=option]"))
    return [(li.get_attribute("data-value"), li.find_element(By.CLASS_NAME, "count").text.split()[0]) for li in items]


def test_the_address_is_the_selection_with_back_and_forward(site, browser):
    browser.get(f"{site}/?genre=Electronic&decade=1990&seed=5")
    wait_counts(browser, site, [("genre", "Electronic"), ("decade", "1990"), ("seed", "5")])
    assert facet_chips(browser, "genre") == ["Electronic"] and facet_chips(browser, "decade") == ["1990"]
    assert "seed=5" in browser.current_url
    first_sample = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#sample li > a:first-child")]

    # Picking a format is a step in the history.
    picker = browser.find_element(By.ID, "facet-format")
    picker.click()
    picker.send_keys("vin", Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda b: ("format", "Vinyl") in selection(b))
    wait_counts(browser, site, [("genre", "Electronic"), ("decade", "1990"), ("format", "Vinyl"), ("seed", "5")])

    browser.back()
    WebDriverWait(browser, 20).until(lambda b: ("format", "Vinyl") not in selection(b))
    wait_counts(browser, site, [("genre", "Electronic"), ("decade", "1990"), ("seed", "5")])
    assert facet_chips(browser, "format") == []
    # The same seed gives the same sample: a shared link shows what its sender saw.
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#sample li > a:first-child")] == first_sample

    browser.forward()
    WebDriverWait(browser, 20).until(lambda b: facet_chips(b, "format") == ["Vinyl"])
    assert selection(browser) == [("decade", "1990"), ("format", "Vinyl"), ("genre", "Electronic")]

    # Copy link: copied, or (no clipboard permission) shown to copy by hand.
    shared = browser.current_url
    browser.find_element(By.ID, "copy-link").click()
    status = browser.find_element(By.ID, "share-status")
    WebDriverWait(browser, 20).until(lambda _b: status.text)
    assert status.text.startswith("Link copied") or shared in status.text

    # A new browser opening the link restores all of it.
    with chromium() as other:
        other.get(shared)
        WebDriverWait(other, 20).until(lambda b: facet_chips(b, "format") == ["Vinyl"])
        assert facet_chips(other, "genre") == ["Electronic"] and facet_chips(other, "decade") == ["1990"]


def test_enter_takes_the_suggestion_escape_closes_and_chips_go_by_keyboard(site, browser):
    browser.get(site)
    wait_counts(browser, site, [])
    decade = browser.find_element(By.ID, "facet-decade")
    assert decade.get_attribute("role") == "combobox"
    decade.click()
    decade.send_keys("199", Keys.ENTER)  # at once: the suggestions for "199" are awaited
    WebDriverWait(browser, 20).until(lambda b: facet_chips(b, "decade") == ["1990"])
    assert ("decade", "1990") in selection(browser)
    assert browser.find_element(By.ID, "query-error").get_attribute("hidden") is not None

    # Free text that matches nothing is explained, not added.
    decade.send_keys("2050", Keys.ENTER)
    note = browser.find_element(By.ID, "facet-decade-note")
    WebDriverWait(browser, 20).until(lambda _b: "2050" in note.text)
    assert facet_chips(browser, "decade") == ["1990"]

    # Arrows move the highlight (aria-activedescendant); Escape closes the list.
    decade.send_keys(Keys.BACKSPACE * 4)
    WebDriverWait(browser, 20).until(lambda _b: decade.get_attribute("aria-expanded") == "true")
    decade.send_keys(Keys.ARROW_DOWN)
    active = decade.get_attribute("aria-activedescendant")
    assert browser.find_element(By.ID, active).get_attribute("aria-selected") == "true"
    decade.send_keys(Keys.ESCAPE)
    assert decade.get_attribute("aria-expanded") == "false"
    assert not browser.find_element(By.ID, "facet-decade-list").is_displayed()

    # Backspace in the empty picker reaches its last chip; Delete removes it and the focus stays in the picker.
    decade.send_keys(Keys.BACKSPACE)
    focused = browser.switch_to.active_element
    assert focused.get_attribute("aria-label") == "Remove decade 1990"
    focused.send_keys(Keys.DELETE)
    WebDriverWait(browser, 20).until(lambda b: facet_chips(b, "decade") == [])
    assert browser.switch_to.active_element.get_attribute("id") == "facet-decade"
    wait_counts(browser, site, [])


def test_suggestion_counts_are_what_the_query_counts(site, browser):
    browser.get(f"{site}/?genre=Electronic")
    wait_counts(browser, site, [("genre", "Electronic")])
    for facet in ("decade", "format", "genre"):
        browser.find_element(By.ID, f"facet-{facet}").click()
        shown = suggestions(browser, facet)
        assert shown
        base = [] if facet == "genre" else [("genre", "Electronic")]
        for value, text in shown:
            releases = api(site, "/api/v1/query", [*base, (facet, value)])["releases"]
            assert text == (f"{releases:,}" if releases else "none"), (facet, value)
        counts = [int(t.replace(",", "")) for _, t in shown if t != "none"]
        assert counts == sorted(counts, reverse=True)
        browser.find_element(By.ID, f"facet-{facet}").send_keys(Keys.ESCAPE)
    # Each empty picker shows its top values for the selection before anything is typed.
    tops = browser.find_elements(By.CSS_SELECTOR, ".facet:has(#facet-decade) .tops .top")
    assert tops and tops[0].find_element(By.CLASS_NAME, "count").text.split()[0].isdigit()


def test_a_release_page_shows_tracklist_and_videos_and_starts_selections(site, browser):
    release = next(r for r in releases_with_videos().values() if r.get("tracklist") and len(r["videos"]) > 1)
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": FAKE_IFRAME_API.read_text()})
    browser.get(f"{site}/releases/{release['id']}")
    assert browser.find_element(By.TAG_NAME, "h1").text == release["title"]
    rows = browser.find_elements(By.CSS_SELECTOR, ".tracklist tbody tr")
    assert len(rows) >= len(release["tracklist"])
    assert rows[0].text.startswith(str(release["tracklist"][0]["position"] or ""))
    videos = browser.find_elements(By.CSS_SELECTOR, ".videos li")
    ids = [v["youtube_id"] for v in release["videos"]]
    assert [v.get_attribute("data-video-id") for v in videos] == ids
    # The page player (player.js, a stand-in for YouTube's IFrame API here) plays the release's videos in order;
    # there is no selection to draw more from or to export.
    assert [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#player-queue li")] == [
        v["title"] for v in release["videos"]]
    assert not browser.find_element(By.ID, "player-more").is_displayed()
    assert not browser.find_element(By.ID, "download-csv").is_displayed()
    browser.find_element(By.ID, "player-play").click()
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return window.fakeYT.loaded") == ids[:1])
    browser.find_element(By.ID, "player-next").click()
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return window.fakeYT.loaded") == ids[:2])
    genre = release["genres"][0]
    browser.find_element(By.LINK_TEXT, genre).click()
    WebDriverWait(browser, 20).until(lambda b: facet_chips(b, "genre") == [genre])
    wait_counts(browser, site, [("genre", genre)])


def test_the_404_page(site, browser):
    browser.get(f"{site}/releases/1")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    browser.find_element(By.LINK_TEXT, "Pick music from the catalogue").click()
    WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "count-releases").text != "–")


def test_phone_width_dark_mode_and_screenshots(site, browser, screenshots):
    release = next(iter(releases_with_videos().values()))
    page = f"{site}/?genre=Electronic&decade=1990&seed=1"

    def show_main(scheme: str) -> None:
        """The main page in that colour scheme, its counts and the country picker's top values shown."""
        color_scheme(browser, scheme)
        browser.get(page)
        wait_counts(browser, site, [("genre", "Electronic"), ("decade", "1990"), ("seed", "1")])
        WebDriverWait(browser, 20).until(
            lambda b: b.find_elements(By.CSS_SELECTOR, ".facet:has(#facet-country) .tops .top"))

    for scheme in ("light", "dark"):
        show_main(scheme)
        background = browser.execute_script("return getComputedStyle(document.documentElement).backgroundColor")
        assert (background == "rgb(22, 20, 18)") == (scheme == "dark")
        full_page_png(browser, screenshots / f"main-desktop-{scheme}.png")
    color_scheme(browser, "light")
    browser.get(f"{site}/releases/{release['id']}")
    full_page_png(browser, screenshots / "release-desktop-light.png")

    phone(browser)
    for scheme in ("light", "dark"):
        show_main(scheme)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        # One column: the results panel sits below the pickers.
        assert browser.execute_script(
            "return document.getElementById('results').getBoundingClientRect().top > "
            "document.getElementById('facets').getBoundingClientRect().bottom")
        # Touch-sized targets: pickers, suggestions, buttons at least 44 CSS pixels high.
        heights = browser.execute_script(
            "return [...document.querySelectorAll('.facet input, .options .link, #sign-in')]"
            ".map(e => e.getBoundingClientRect().height)")
        assert min(heights) >= 44
        full_page_png(browser, screenshots / f"main-phone-{scheme}.png")
    browser.get(f"{site}/releases/{release['id']}")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    full_page_png(browser, screenshots / "release-phone-dark.png")


def axe_violations(browser: WebDriver) -> list[dict[str, Any]]:
    browser.set_script_timeout(60)
    browser.execute_script(AXE.read_text())
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))));")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_problem(site, browser, scheme):
    release = next(iter(releases_with_videos().values()))
    color_scheme(browser, scheme)
    pages = {
        "main": f"{site}/?genre=Electronic&seed=1",
        "release": f"{site}/releases/{release['id']}",
        "404": f"{site}/releases/1",
        "api": f"{site}/api",
    }
    found = {}
    for name, url in pages.items():
        browser.get(url)
        if name == "main":
            wait_counts(browser, site, [("genre", "Electronic"), ("seed", "1")])
            # With a suggestion list open, so the combobox and its listbox are audited too.
            browser.find_element(By.ID, "facet-decade").click()
            suggestions(browser, "decade")
        found[name] = [v for v in axe_violations(browser) if v["impact"] in REFUSED_IMPACTS]
    assert found == {name: [] for name in pages}
