"""`dataget worker` as a subprocess on the real stack: records reach Mongo and the facet index, bad ones the DLQ,
and a `kill -9` in the middle of an ingest loses and duplicates nothing after a restart."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pymongo
import pytest
from kafka import KafkaProducer
from redis.asyncio import Redis

from dataget.stack.process import stop_children
from runtime.lag import wait_for_lag_zero
from runtime.settings import Settings, settings_env
from runtime.topic_admin import ensure_topics
from schemas.topics import ENTITIES, indexer_group_id
from sinks.facet_index import FacetIndex
from sinks.mongo_store import to_document
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.stack

GENRES = ("Electronic", "Rock", "Jazz", "Funk / Soul")


def release(rid: int, title: str = "Title") -> dict:
    return {
        "id": rid, "status": "Accepted", "title": f"{title} {rid}",
        "artists": [{"id": rid % 97 + 1, "name": f"Artist {rid % 97}", "anv": None, "join": None, "role": None,
                     "tracks": None}],
        "extraartists": [], "labels": [{"id": rid % 13 + 1, "name": f"Label {rid % 13}", "catno": "CAT 1"}],
        "series": [], "formats": [{"name": "Vinyl", "qty": "1", "text": None, "descriptions": ["LP"]}],
        "genres": [GENRES[rid % 4]], "styles": ["House"] if rid % 2 else ["Techno"], "country": "UK",
        "released": "1998", "year": 1980 + rid % 40, "month": None, "day": None, "notes": None,
        "data_quality": "Correct", "master_id": None, "is_main_release": None,
        "tracklist": [{"position": "A1", "title": "Intro", "duration": "3:00", "artists": [], "extraartists": [],
                       "sub_tracks": []}],
        "identifiers": [], "companies": [], "images": [],
        "videos": [{"src": f"https://www.youtube.com/watch?v=v{rid:010d}", "youtube_id": f"v{rid:010d}",
                    "duration": 200, "embed": True, "title": f"Video {rid}", "description": None}],
    }


def publish(settings: Settings, messages: list[tuple[int, dict | None | bytes]]) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=20)
    try:
        for rid, value in messages:
            raw = value if isinstance(value, bytes) or value is None else orjson.dumps(value)
            producer.send(settings.topics.entity("releases"), key=str(rid).encode(), value=raw,
                          headers=[("dump_version", b"20260301")])
        producer.flush()
    finally:
        producer.close()


@contextmanager
def stack_env(dataget_bin: Path, settings: Settings, log: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """A starter of worker subprocesses, stopped at the end (isolated_settings drops what they made)."""
    ensure_topics(settings)
    procs: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        with log.open("ab") as out:
            proc = subprocess.Popen([str(dataget_bin), "worker"], env={**os.environ, **settings_env(settings)},
                                    stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    try:
        yield start
    finally:
        stop_children(procs, timeout=60)


async def _redis(settings: Settings, action: Callable, namespace: str) -> object:
    redis = Redis.from_url(settings.redis_url)
    try:
        return await action(FacetIndex(redis, namespace))
    finally:
        await redis.aclose()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def mongo_docs(settings: Settings) -> dict[int, dict]:
    client = pymongo.MongoClient(settings.mongo_url)
    try:
        return {d["id"]: d for d in client[settings.mongo_db].releases.find()}
    finally:
        client.close()


def wait_caught_up(settings: Settings, worker: subprocess.Popen) -> None:
    def still_running(_lag: int) -> None:
        # A worker that died (a start-up error) would otherwise leave the test waiting out the timeout.
        if worker.poll() is not None:
            raise AssertionError(f"the worker exited with code {worker.returncode}; see worker.log")

    wait_for_lag_zero(settings, indexer_group_id(settings.namespace),
                      [settings.topics.entity(e) for e in ENTITIES], timeout=600, on_progress=still_running, poll=0.5)


def test_worker_stores_indexes_and_dead_letters(dataget_bin, isolated_settings, tmp_path) -> None:
    settings = isolated_settings
    with stack_env(dataget_bin, settings, tmp_path / "worker.log") as start:
        publish(settings, [(i, release(i)) for i in range(1, 21)] + [(3, None), (4, release(4, "New")),
                                                                   (99, b"{broken json")])
        wait_caught_up(settings, start())
        docs = mongo_docs(settings)
        assert sorted(docs) == [i for i in range(1, 21) if i != 3]
        assert docs[4]["title"] == "New 4" and docs[5] == to_document(5, release(5))
        stats = asyncio.run(_redis(settings, lambda index: index.stats(), f"{settings.namespace}:v0"))
        assert stats["releases"] == 19 and stats["videos"] == 19
        letters = [orjson.loads(m.value) for m in read_topic(settings, settings.topics.dlq)]
        assert [(d["entity"], d["id"], d["dump_version"]) for d in letters] == [("releases", 99, "20260301")]
        assert "broken json" in letters[0]["excerpt"]


@pytest.mark.slow
@pytest.mark.timeout(900)  # a restarted consumer waits out the killed one's session
def test_kill_9_mid_ingest_loses_and_duplicates_nothing(dataget_bin, isolated_settings, tmp_path) -> None:
    settings = isolated_settings
    # FerretDB scans its table for every changed or deleted document (sinks/mongo_store.py): keep it small.
    count = 1000
    # Updates and deletes of earlier ids too, so replaying part of the topic must converge to the same end state.
    messages: list[tuple[int, dict | None | bytes]] = [(i, release(i)) for i in range(1, count + 1)]
    messages += [(i, release(i, "Updated")) for i in range(1, count + 1, 25)]
    messages += [(i, None) for i in range(5, count + 1, 37)]
    expected: dict[int, dict | None] = {}
    for rid, value in messages:
        expected[rid] = value  # type: ignore[assignment]
    expected_docs = {rid: to_document(rid, rec) for rid, rec in expected.items() if rec is not None}

    with stack_env(dataget_bin, settings, tmp_path / "worker.log") as start:
        publish(settings, messages)
        first = start()
        client = pymongo.MongoClient(settings.mongo_url)
        try:
            wait_until(lambda: client[settings.mongo_db].releases.estimated_document_count() >= 300,
                       "the first batches in Mongo")
        finally:
            client.close()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        wait_caught_up(settings, start())

        assert mongo_docs(settings) == expected_docs
        # The index of the interrupted run equals one built in a single uninterrupted pass.
        reference = f"{settings.namespace}:ref"
        items = list(expected.items())
        asyncio.run(_redis(settings, lambda index: index.apply_releases(items), reference))
        got, want = (asyncio.run(_redis(settings, lambda index: index.stats(), ns))
                     for ns in (f"{settings.namespace}:v0", reference))
        assert got == want and got["releases"] == len(expected_docs)
