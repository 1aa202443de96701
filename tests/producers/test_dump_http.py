from datetime import UTC, datetime

import pytest

from producers.dump_discovery import download_url, listing_url
from producers.dump_http import DumpSiteError, Fetcher, NotFound, RetryPolicy, open_client, retry_after_seconds
from tests.fakes.dump_site import FakeDumpSite, cut, rate_limited, server_error

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
NAME = "discogs_20260115_CHECKSUM.txt"


@pytest.fixture
def site():
    with FakeDumpSite() as fake:
        fake.add_dump("20260115")
        yield fake


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def fetcher(sleeps):
    with open_client() as client:
        yield Fetcher(client, RetryPolicy(attempts=4, backoff_first=5.0, backoff_max=12.0), sleeps.append,
                      now=lambda: NOW)


def checksum_url(site):
    return download_url(site.url, "20260115", "CHECKSUM")


def test_retry_after_reads_seconds_and_dates_and_caps_them():
    assert retry_after_seconds("120", NOW, 3600) == 120
    assert retry_after_seconds("7200", NOW, 3600) == 3600
    assert retry_after_seconds("Thu, 15 Jan 2026 12:30:00 GMT", NOW, 3600) == 1800
    assert retry_after_seconds("Thu, 15 Jan 2026 11:00:00 GMT", NOW, 3600) == 0
    assert retry_after_seconds("soon", NOW, 3600) is None
    assert retry_after_seconds(None, NOW, 3600) is None


def test_429_waits_as_long_as_asked_up_to_an_hour(site, fetcher, sleeps):
    site.fail(NAME, rate_limited("90"), rate_limited("86400"))
    text = fetcher.text(checksum_url(site), NAME)
    assert "discogs_20260115_releases.xml.gz" in text
    assert sleeps == [90, 3600]


def test_429_without_retry_after_backs_off(site, fetcher, sleeps):
    site.fail(NAME, rate_limited(""))
    fetcher.text(checksum_url(site), NAME)
    assert sleeps == [5.0]


def test_5xx_backs_off_exponentially_up_to_the_cap(site, fetcher, sleeps):
    site.fail(NAME, server_error(503), server_error(500), server_error(502))
    fetcher.text(checksum_url(site), NAME)
    assert sleeps == [5.0, 10.0, 12.0]


def test_a_server_that_keeps_failing_is_a_clear_error(site, fetcher, sleeps):
    site.fail(NAME, *[server_error(503)] * 4)
    with pytest.raises(DumpSiteError, match=rf"{NAME}: gave up after 4 attempts; last: server error \(HTTP 503\)"):
        fetcher.text(checksum_url(site), NAME)
    assert len(sleeps) == 3


def test_a_cut_transfer_is_retried(site, fetcher, sleeps):
    site.fail(NAME, cut(10))
    assert "discogs_20260115_artists.xml.gz" in fetcher.text(checksum_url(site), NAME)
    assert len(sleeps) == 1


def test_404_is_not_found_at_once(site, fetcher, sleeps):
    with pytest.raises(NotFound, match="discogs_20260201_CHECKSUM.txt: not found"):
        fetcher.text(download_url(site.url, "20260201", "CHECKSUM"), "discogs_20260201_CHECKSUM.txt")
    assert sleeps == []


def test_sends_a_descriptive_user_agent_and_follows_redirects(fetcher):
    with FakeDumpSite(redirect=True) as site:
        site.add_dump("20260115")
        assert "discogs_20260115_labels.xml.gz" in fetcher.text(checksum_url(site), NAME)
        assert "<pre>" in fetcher.text(listing_url(site.url, 2026), "listing")
    assert any(path.startswith("/object/") for path, _ in site.requests)
    agents = {agent for _, agent in site.requests}
    assert len(agents) == 1 and agents.pop().startswith("discogs-dataget/")
