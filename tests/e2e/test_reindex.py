"""`dataget reindex` on the real stack: a new version built from the topics, switched to, the old one dropped (after
the replay, or with --in-place before it)."""

from __future__ import annotations

import asyncio
import os
import subprocess

import pytest
from redis.asyncio import Redis

from runtime.settings import settings_env
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.index_versions import active_index_namespace
from tests.worker_process import running_worker

pytestmark = pytest.mark.stack


async def _snapshot(settings, old: str = "v0") -> tuple[str, tuple[int, int], int]:
    """The active version, its counts and how many keys version `old` still has."""
    redis = Redis.from_url(settings.redis_url)
    try:
        namespace = await active_index_namespace(redis, settings.namespace)
        result = await FacetIndex(redis, namespace).query(FacetQuery())
        keys = len([k async for k in redis.scan_iter(match=f"{settings.namespace}:{old}:*")])
        return namespace, (result.releases, result.videos), keys
    finally:
        await redis.aclose()


def test_reindex_switches_to_a_rebuilt_version(dataget_bin, isolated_settings, fixtures_dir, tmp_path) -> None:
    settings = isolated_settings.with_(stack_dir=tmp_path / "stack")
    env = {**os.environ, **settings_env(settings)}

    def dataget(*argv: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(dataget_bin), *argv], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    with running_worker(dataget_bin, settings, tmp_path / "worker.log"):
        dataget("ingest", str(fixtures_dir / "releases-sample-tgmz-2025-2026.xml"), "--dump-version", "20260301",
                "--wait", "--wait-timeout", "120")
        before = asyncio.run(_snapshot(settings))
        assert before[0] == f"{settings.namespace}:v0" and before[1][0] == 2 and before[2] > 0

        out = dataget("reindex", "--timeout", "180").stdout
        after = asyncio.run(_snapshot(settings))
        assert after[0] == f"{settings.namespace}:v1" and "v1 is active" in out
        assert after[1] == before[1]  # same counts, rebuilt from the topics alone
        assert after[2] == 0  # the old version is gone

        # In place: the switch comes first and the old version goes before the replay; the result is the same.
        out = dataget("reindex", "--in-place", "--timeout", "180").stdout
        in_place = asyncio.run(_snapshot(settings, "v1"))
        assert in_place == (f"{settings.namespace}:v2", before[1], 0) and "v2 is active" in out

        # The live worker follows the switch: new records land in the active version.
        dataget("ingest", str(fixtures_dir / "releases-sample-philipmat-20200806.xml.gz"),
                "--dump-version", "20260301", "--wait", "--wait-timeout", "120")
        grown = asyncio.run(_snapshot(settings))
        assert grown[0] == in_place[0] and grown[1][0] == 2 + 29
