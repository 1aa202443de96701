"""Fixtures of the web tests: the local stand-in of Google's sign-in, headless Chromium for the page tests."""

from collections.abc import Iterator

import pytest
from browser_support import chromium
from selenium import webdriver

from dataget.standins.oidc import FakeOIDC


@pytest.fixture(scope="module")
def oidc() -> Iterator[FakeOIDC]:
    with FakeOIDC() as fake:
        yield fake


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver
