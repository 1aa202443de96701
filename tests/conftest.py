"""Shared fixtures: the dump excerpts, the real local stack (Kafka, FerretDB, Redis) and per-test isolation.

Tiers: a test that uses the stack (the `stack_settings` fixture, directly or through another fixture) is marked
`stack` here; `slow` tests (long fault tests: killed processes, restarted servers) run only with `--slow`
(`make test-slow`); tests on the larger shared excerpt set (`shared_fixtures_dir`) are marked `shared_fixtures`.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.settings import Settings, settings_from_env

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "discogs"
# The larger excerpt set (about 4,000 records) kept beside the repository on machines that have it.
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "discogs"
SHARED_FIXTURES_ENV = "DATAGET_SHARED_FIXTURES"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--slow", action="store_true", help="also run the tests marked slow (long fault tests)")


@pytest.hookimpl(tryfirst=True)  # before -m selects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "stack_settings" in item.fixturenames:
            item.add_marker(pytest.mark.stack)
        if "shared_fixtures_dir" in item.fixturenames:
            item.add_marker(pytest.mark.shared_fixtures)
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(scope="session")
def fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real dump excerpts of tests/fixtures/discogs (PROVENANCE.md there), each beside a gzip copy
    (`name.xml.gz`), so the gzip input path is tested on the same records."""
    target = tmp_path_factory.mktemp("discogs")
    for path in sorted(FIXTURES.glob("*.xml")):
        data = path.read_bytes()
        (target / path.name).write_bytes(data)
        (target / f"{path.name}.gz").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return target


@pytest.fixture(scope="session")
def shared_fixtures_dir() -> Path:
    """The larger excerpt set in ../shared, for opt-in tests: they run only with DATAGET_SHARED_FIXTURES=1."""
    if os.environ.get(SHARED_FIXTURES_ENV) != "1":
        pytest.skip(f"larger excerpt set not requested ({SHARED_FIXTURES_ENV}=1 runs these tests)")
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(f"{SHARED_FIXTURES_ENV}=1 but the larger excerpt set is not at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


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
