"""Fixtures of the page tests in headless Chromium."""

from collections.abc import Iterator

import pytest
from browser_support import chromium
from selenium import webdriver


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    with chromium() as driver:
        yield driver
