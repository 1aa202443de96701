"""`dataget worker` and `dataget reindex` on a Redis with an 8 MB maxmemory: they refuse a Redis that would evict,
and one that fills up stops them with the numbers, commits nothing it did not index, and after maxmemory is raised
they index the rest with exact counts."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from dataget.commands.worker import EVICTING_REDIS, INDEX_FULL
from runtime.lag import wait_for_lag_zero
from runtime.settings import Settings, settings_env
from runtime.topic_admin import ensure_topics
from schemas.query import FacetQuery
from schemas.topics import indexer_group_id
from sinks.aof_rewrites import AOF_REWRITE
from sinks.facet_index import FacetIndex
from sinks.index_versions import active_index_namespace, version_namespace
from tests.index_memory import SMALL_MAXMEMORY, brute_count, dedicated_redis, publish_releases, release
from tests.kafka_helpers import read_topic
from tests.worker_process import running_worker

pytestmark = pytest.mark.stack

# About three times what 8 MB holds.
RELEASES = 9000
QUERIES = [FacetQuery(), FacetQuery({"genre": ("Rock",)}), FacetQuery({"style": ("Dub", "Soul"), "decade": ("1980",)})]


def dataget(dataget_bin: Path, settings: Settings, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(dataget_bin), *argv], env={**os.environ, **settings_env(settings)},
                          capture_output=True, text=True, timeout=300)


async def redis_call(url: str, *command: str) -> object:
    redis = Redis.from_url(url)
    try:
        return await redis.execute_command(*command)
    finally:
        await redis.aclose()


async def index_counts(url: str, namespace: str, queries: list[FacetQuery]) -> list[tuple[int, int]]:
    redis = Redis.from_url(url)
    try:
        index = FacetIndex(redis, namespace)
        return [((r := await index.query(q)).releases, r.videos) for q in queries]
    finally:
        await redis.aclose()


def committed_offsets(settings: Settings, group: str) -> dict[int, int]:
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == settings.topics.entity("releases")}


@pytest.mark.parametrize("command", [["worker"], ["reindex", "--timeout", "60"]])
def test_a_redis_that_would_evict_index_keys_is_refused(command, dataget_bin, isolated_settings, tmp_path) -> None:
    with dedicated_redis(tmp_path) as url:
        asyncio.run(redis_call(url, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru"))
        done = dataget(dataget_bin, isolated_settings.with_(redis_url=url), *command)
    assert done.returncode == EVICTING_REDIS, done.stdout + done.stderr
    assert "maxmemory-policy allkeys-lru" in done.stderr and "maxmemory-policy noeviction" in done.stderr


def test_a_worker_that_fills_redis_stops_uncommitted_and_goes_on_once_maxmemory_is_raised(
        dataget_bin, isolated_settings, tmp_path) -> None:
    with dedicated_redis(tmp_path) as url:
        settings = isolated_settings.with_(redis_url=url)
        ensure_topics(settings)
        publish_releases(settings, range(1, RELEASES + 1))
        log = tmp_path / "worker.log"
        with running_worker(dataget_bin, settings, log) as worker:
            assert worker.wait(timeout=300) == INDEX_FULL
        text = log.read_text()
        assert "the facet index is full" in text and "release messages are still to go" in text, text[-3000:]

        # Every release below the committed offsets is in the index: nothing was committed that was not indexed.
        committed = committed_offsets(settings, indexer_group_id(settings.namespace))
        done = [int(m.key) for m in read_topic(settings, settings.topics.entity("releases"))
                if m.offset < committed.get(m.partition, 0)]
        assert 0 < len(done) < RELEASES
        asyncio.run(redis_call(url, "CONFIG", "SET", "maxmemory", str(8 * SMALL_MAXMEMORY)))
        namespace = version_namespace(settings.namespace, 0)
        committed_query = FacetQuery({"artist": tuple(f"Artist {rid}" for rid in done)})
        assert asyncio.run(index_counts(url, namespace, [committed_query]))[0][0] == len(done)

        with running_worker(dataget_bin, settings, tmp_path / "worker-again.log") as worker:
            def still_running(_lag: int) -> None:
                assert worker.poll() is None, (tmp_path / "worker-again.log").read_text()[-3000:]

            wait_for_lag_zero(settings, indexer_group_id(settings.namespace), [settings.topics.entity("releases")],
                              timeout=300, on_progress=still_running, poll=0.5)
        every = [release(rid) for rid in range(1, RELEASES + 1)]
        assert asyncio.run(index_counts(url, namespace, QUERIES)) == [brute_count(every, q) for q in QUERIES]


def test_a_reindex_that_fills_redis_stops_with_the_numbers_and_drops_its_version(
        dataget_bin, isolated_settings, tmp_path) -> None:
    with dedicated_redis(tmp_path) as url:
        settings = isolated_settings.with_(redis_url=url, stack_dir=tmp_path / "stack")
        ensure_topics(settings)
        publish_releases(settings, range(1, RELEASES + 1))
        done = dataget(dataget_bin, settings, "reindex", "--timeout", "300")
        assert done.returncode == INDEX_FULL, done.stdout + done.stderr
        assert "the facet index is full" in done.stderr and "v1 is dropped" in done.stderr, done.stderr

        async def state() -> tuple[str, list[bytes]]:
            redis = Redis.from_url(url)
            try:
                keys = [k async for k in redis.scan_iter(match=f"{settings.namespace}:v1:*")]
                return await active_index_namespace(redis, settings.namespace), keys
            finally:
                await redis.aclose()

        assert asyncio.run(state()) == (version_namespace(settings.namespace, 0), [])

        asyncio.run(redis_call(url, "CONFIG", "SET", "maxmemory", str(8 * SMALL_MAXMEMORY)))
        done = dataget(dataget_bin, settings, "reindex", "--timeout", "300")
        assert done.returncode == 0, done.stdout + done.stderr
        every = [release(rid) for rid in range(1, RELEASES + 1)]
        namespace = version_namespace(settings.namespace, 2)
        assert asyncio.run(index_counts(url, namespace, QUERIES)) == [brute_count(every, q) for q in QUERIES]


def test_an_index_that_fits_in_redis_once_is_rebuilt_in_place(dataget_bin, isolated_settings, tmp_path) -> None:
    releases = 5000  # ~5.7 MB of index beside Redis' own ~1 MB: one version fits under 90% of 10 MB, two do not
    with dedicated_redis(tmp_path, maxmemory=10 * 1024**2) as url:
        # The replay's workers hold AOF rewrites off from 1,000 release messages to go.
        settings = isolated_settings.with_(redis_url=url, stack_dir=tmp_path / "stack", aof_pause_backlog=1000)
        ensure_topics(settings)
        publish_releases(settings, range(1, releases + 1))
        assert dataget(dataget_bin, settings, "reindex", "--timeout", "300").returncode == 0
        side_by_side = dataget(dataget_bin, settings, "reindex", "--timeout", "300")
        assert side_by_side.returncode == INDEX_FULL, side_by_side.stdout + side_by_side.stderr
        assert "`dataget reindex --in-place`" in side_by_side.stderr, side_by_side.stderr

        # Watched while it runs: automatic AOF rewrites wait for the end of the build.
        watch = SyncRedis.from_url(url, decode_responses=True)
        rewrites = watch.info("persistence")["aof_rewrites"]
        seen = set()
        with subprocess.Popen([str(dataget_bin), "reindex", "--in-place", "--timeout", "300"], text=True,
                              env={**os.environ, **settings_env(settings)}, stdout=subprocess.PIPE) as running:
            while running.poll() is None:
                seen.add(watch.config_get(AOF_REWRITE)[AOF_REWRITE])
                time.sleep(0.05)
            assert running.returncode == 0
            out = running.stdout.read() if running.stdout else ""
        rebuilt = version_namespace(settings.namespace, 3)
        assert f"index version {rebuilt} is active" in out
        assert "0" in seen and watch.config_get(AOF_REWRITE)[AOF_REWRITE] == "100"
        # One rewrite once the old version was dropped (its AOF shrinks before the build), one after the build.
        while watch.info("persistence")["aof_rewrite_in_progress"]:
            time.sleep(0.05)
        assert watch.info("persistence")["aof_rewrites"] >= rewrites + 2
        watch.close()

        async def state() -> tuple[str, int]:
            redis = Redis.from_url(url)
            try:
                old = [k async for k in redis.scan_iter(match=f"{settings.namespace}:v1:*")]
                return await active_index_namespace(redis, settings.namespace), len(old)
            finally:
                await redis.aclose()

        assert asyncio.run(state()) == (rebuilt, 0)
        every = [release(rid) for rid in range(1, releases + 1)]
        assert asyncio.run(index_counts(url, rebuilt, QUERIES)) == [brute_count(every, q) for q in QUERIES]
