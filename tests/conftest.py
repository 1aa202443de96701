"""Shared fixtures: the real local stack (Kafka, FerretDB, Redis) and per-test isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.settings import Settings, settings_from_env

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "discogs"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The real dump excerpts in ../shared (read in place, never copied)."""
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def stack_settings() -> Iterator[Settings]:
    """Settings whose servers answer: the local stack brought up (or external servers checked)."""
    from dataget.stack import ensure_stack

    settings = settings_from_env()
    with ensure_stack(settings):
        yield settings


@pytest.fixture
def isolated_settings(stack_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Stack settings with topics, Mongo database, Redis namespace and state directory of this test alone; all
    of them are dropped after it."""
    from dataget.throwaway import drop_throwaway, throwaway_settings

    settings = throwaway_settings(stack_settings, tmp_path / "state")
    yield settings
    drop_throwaway(settings)


@pytest.fixture(scope="session")
def dataget_bin() -> Path:
    """The installed console script (the real entry point, as an operator runs it)."""
    import shutil
    import sys

    candidate = Path(sys.executable).with_name("dataget")
    found = candidate if candidate.exists() else shutil.which("dataget")
    if not found:
        pytest.fail("the dataget console script is not installed (run `make setup`)")
    return Path(found)
