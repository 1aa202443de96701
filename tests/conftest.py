"""Shared fixtures: the real local stack (Kafka, FerretDB, Redis) and per-test isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataget.settings import Settings, settings_from_env
from dataget.topics import Topics

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
def isolated_settings(stack_settings: Settings, tmp_path: Path) -> Settings:
    """Stack settings with topics, Mongo database, Redis namespace and state directory of this test alone."""
    tag = uuid.uuid4().hex[:10]
    return stack_settings.with_(
        topics=Topics(prefix=f"t{tag}."), mongo_db=f"t{tag}", namespace=f"t{tag}", state_dir=tmp_path / "state"
    )


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
