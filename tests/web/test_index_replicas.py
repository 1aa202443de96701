"""The site's index over a real Redis primary and a real replica, both started by the stack's code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dataget.commands.status import replica_states
from dataget.stack import build_dir
from dataget.stack.process import free_port
from dataget.stack.services import Service, redis_replica_service, redis_service
from runtime.settings import redis_address, settings_from_env
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.index_versions import activate_confirmed, active_key, version_namespace
from web.app import redis_index_provider

pytestmark = pytest.mark.stack

RELEASE = {"genres": ["Rock"], "videos": [{"src": "", "youtube_id": "aaaaaaaaaaa", "title": "t"}]}


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[str, str, Service]]:
    """URLs of a fresh primary and its replica (in sync), and the replica's service."""
    primary_url, replica_url = (f"redis://127.0.0.1:{free_port()}/0" for _ in range(2))
    builds_at = build_dir(settings_from_env())
    primary, replica = redis_service(primary_url, builds_at), redis_replica_service(replica_url, primary_url, builds_at)
    try:
        primary.start(tmp_path)
        replica.start(tmp_path)
        yield primary_url, replica_url, replica
    finally:
        for service in (replica, primary):
            service.process(tmp_path).stop()


async def query_calls(redis: Redis) -> int:
    return int((await redis.info("commandstats")).get("cmdstat_rbm.query", {}).get("calls", 0))


async def test_reads_are_shared_with_the_replica_and_survive_its_loss(servers, tmp_path: Path) -> None:
    primary_url, replica_url, replica_service = servers
    primary, replica = Redis.from_url(primary_url), Redis.from_url(replica_url)
    try:
        await FacetIndex(primary, version_namespace("site", 0)).apply_releases([(1, RELEASE), (2, RELEASE)])
        assert await primary.wait(1, 5000) == 1
        index = await redis_index_provider(primary, "site", {"replica": replica})()
        rock = FacetQuery({"genre": ("Rock",)})
        replica_before = await query_calls(replica)
        results = await asyncio.gather(*(index.query(rock) for _ in range(20)))
        assert {(r.releases, r.videos) for r in results} == {(2, 1)}
        assert await query_calls(replica) > replica_before  # the replica ran queries (writable, in sync)
        assert [v.releases for v in await index.facet_values("genre")] == [2]

        assert await replica_states(primary, (replica_url,)) == {redis_address(replica_url): "in sync"}

        replica_service.process(tmp_path).stop()
        results = await asyncio.gather(*(index.query(rock) for _ in range(5)))
        assert {r.releases for r in results} == {2}  # the primary answered for the stopped replica
        assert await replica_states(primary, (replica_url,)) == {redis_address(replica_url): "not answering"}
    finally:
        await primary.aclose()
        await replica.aclose()


async def test_a_reindex_switch_returns_once_the_replica_has_it(servers) -> None:
    primary_url, replica_url, _ = servers
    primary, replica = Redis.from_url(primary_url), Redis.from_url(replica_url)
    try:
        previous, confirmed = await activate_confirmed(primary, "site", version_namespace("site", 1), 1, 5000)
        assert (previous, confirmed) == (version_namespace("site", 0), 1)
        assert await replica.get(active_key("site")) == version_namespace("site", 1).encode()
    finally:
        await primary.aclose()
        await replica.aclose()
