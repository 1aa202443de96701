"""The fault suite (slow, opt-in: `pytest --slow tests/e2e/test_fault_suite.py`): during an ingest of a synthetic
dump, with the site under a steady query load and a playlist job in flight on the fake YouTube, one process is
killed with SIGKILL: the index worker, Redis, FerretDB, Kafka or the YouTube worker. It is restarted as an operator
would: a server with `dataget stack up` (idempotent, starts what is down), a worker with its command. A worker that
exits on its own because a server died is started again at once, as a supervisor (systemd's Restart=always) would,
and the table says so.

Then the Mongo documents and the facet index equal the brute-force expectation from the dump, the playlist holds each
video once, the site never answered a 5xx other than a 503 with Retry-After (nor failed to answer), answered 503
while a store it needs was down, and answered again by itself. The table of what each scenario measured is printed
at the end and written to fault-suite.md in pytest's base temporary directory.

The servers are the shared local stack's: killing one disturbs whoever else uses it for seconds, so the suite is
opt-in, and every scenario ends with `dataget stack up` whatever happened.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pymongo import MongoClient

from dataget.stack import service
from dataget.stack.process import stop_children
from dataget.standins.youtube import FakeYouTube
from dataget.synth.dump_set import DumpSet, write_dump_set
from producers.records import iter_records
from runtime.lag import group_lag
from runtime.settings import Settings, settings_env
from runtime.topic_admin import ensure_topics
from schemas.topics import indexer_group_id
from sinks.mongo_store import to_document
from tests.fault_report import FaultRow, markdown_table
from tests.index_counts import IndexCounts, expected_index, index_state
from tests.playlist_job import publish_job, request_job, start_youtube_worker, wait_for_job
from tests.site_load import INDEX, RECORD, SiteLoad, back_at, failures, running_site, unavailable
from tests.supervisor import Starter, Supervisor
from tests.worker_process import start_worker

pytestmark = [pytest.mark.stack, pytest.mark.slow]

# A few thousand releases (with their masters, artists and labels): long enough an ingest to kill something in.
RELEASES = 4000
# The kill comes once the index workers have committed this share of the releases.
KILL_AT = 0.3
# Seconds the killed process stays down: an operator's (or a supervisor's) reaction, long enough to be seen.
DOWN_S = 5.0
SERVERS = ("redis", "ferretdb", "kafka")
WORKERS = ("worker", "youtube-worker")
# Which requests of the site need the killed server: they get 503s while it is down.
NEEDED_BY = {"redis": (INDEX,), "ferretdb": (RECORD,)}
VIDEOS = [f"video{n:06d}" for n in range(12)]


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> DumpSet:
    return write_dump_set(tmp_path_factory.mktemp("fault-dump"), RELEASES, seed=15)


@pytest.fixture(scope="module")
def expected_docs(dumps: DumpSet) -> dict[str, dict[int, dict[str, Any]]]:
    """Every entity's documents as a worker that never failed stores them."""
    return {entity: {item.record_id: to_document(item.record_id, item.record)
                     for item in iter_records(path) if item.record_id is not None and item.record is not None}
            for entity, path in dumps.files.items()}


@pytest.fixture(scope="module")
def expected_counts(dumps: DumpSet) -> IndexCounts:
    return expected_index(dumps.releases)


@pytest.fixture(scope="module")
def fault_table(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[FaultRow]]:
    """The scenarios' rows; printed and written to fault-suite.md after the last one."""
    rows: list[FaultRow] = []
    yield rows
    if not rows:
        return
    table = markdown_table(rows)
    path = tmp_path_factory.getbasetemp() / "fault-suite.md"
    path.write_text(table)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # teardown output is captured otherwise
            reporter.write_sep("=", f"fault suite ({path})")
            reporter.write(table)


def mongo_lost(mongo: MongoClient, settings: Settings,
               expected: dict[str, dict[int, dict[str, Any]]]) -> dict[str, int]:
    """Per entity: expected documents missing or different in Mongo, and documents there that should not be."""
    lost = {}
    for entity, docs in expected.items():
        stored = {doc["id"]: doc for doc in mongo[settings.mongo_db][entity].find()}
        lost[entity] = sum(1 for rid, doc in docs.items() if stored.get(rid) != doc) + len(stored.keys() - docs.keys())
    return lost


def index_lost(got: IndexCounts, want: IndexCounts) -> int:
    """Releases, videos and genre memberships the index lacks or has too many of."""
    genres = Counter(got[2])
    genres.subtract(want[2])
    return abs(got[0] - want[0]) + abs(got[1] - want[1]) + sum(abs(n) for n in genres.values())


def wait_until_indexed(settings: Settings, count: int, ingest: subprocess.Popen, log: Path) -> int:
    """Until the index workers have committed count releases; how many they have then."""
    deadline = time.monotonic() + 300
    while True:
        [releases] = group_lag(settings, indexer_group_id(settings.namespace), [settings.topics.entity("releases")])
        if releases.committed >= count:
            return releases.committed
        assert ingest.poll() is None, f"the ingest ended before the kill: {log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"{releases.committed} releases indexed after 300 s"
        time.sleep(0.2)


def stack_up(dataget_bin: Path) -> None:
    # The environment the stack settings came from: DATAGET_* naming all three servers would make them external.
    done = subprocess.run([str(dataget_bin), "stack", "up"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def kill(killed: str, stack_settings: Settings, supervisor: Supervisor) -> None:
    """SIGKILL a server of the local stack (found by its pid file, as `dataget stack` finds it) or a worker."""
    if killed in SERVERS:
        assert service(stack_settings, killed).process(stack_settings.stack_dir.resolve()).kill() is not None
    else:
        supervisor.kill(killed)


def restart(killed: str, dataget_bin: Path, supervisor: Supervisor, starters: dict[str, Starter]) -> None:
    """As an operator would: `dataget stack up` starts what is down; a worker's command is run again."""
    if killed in SERVERS:
        stack_up(dataget_bin)
    else:
        supervisor.start(killed, starters[killed])


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("killed", ["nothing", *WORKERS, *SERVERS])
def test_a_process_killed_during_an_ingest_under_load_loses_nothing(
    killed: str, dataget_bin: Path, isolated_settings: Settings, stack_settings: Settings, dumps: DumpSet,
    expected_docs: dict[str, dict[int, dict[str, Any]]], expected_counts: IndexCounts,
    fault_table: list[FaultRow], tmp_path: Path,
) -> None:
    if stack_settings.external_stack and killed in SERVERS:
        pytest.skip("needs the local stack: external servers are not ours to kill")
    supervisor = Supervisor()
    ingest: subprocess.Popen | None = None
    mongo: MongoClient[dict[str, Any]] = MongoClient(isolated_settings.mongo_url)
    try:
        with FakeYouTube(videos=VIDEOS) as fake:
            settings = isolated_settings.with_(
                **fake.settings_overrides(), token_key=Fernet.generate_key().decode(),
                session_secret=Fernet.generate_key().decode(), rate_limit_per_s=0)  # the load is one client
            ensure_topics(settings)
            starters: dict[str, Starter] = {
                "worker": lambda: start_worker(dataget_bin, settings, tmp_path / "worker.log"),
                "youtube-worker": lambda: start_youtube_worker(dataget_bin, settings, tmp_path / "youtube-worker.log")}
            for name, starter in starters.items():
                supervisor.start(name, starter)
            genre = expected_counts[2].most_common(1)[0][0]
            with running_site(dataget_bin, settings, tmp_path / "site.log") as url, SiteLoad(url, genre) as load:
                # The job's third insert lands and is held unanswered: the job is in flight when the kill comes.
                job = request_job(mongo, settings, "Fault mix", VIDEOS)
                hold = fake.hold_insert(3)
                asyncio.run(publish_job(settings, job))
                assert hold.reached.wait(120), (tmp_path / "youtube-worker.log").read_text()[-3000:]

                ingest_log = tmp_path / "ingest.log"
                with ingest_log.open("wb") as out:
                    started = time.monotonic()
                    ingest = subprocess.Popen(
                        [str(dataget_bin), "ingest", *map(str, dumps.files.values()), "--wait", "--wait-timeout",
                         "900"], env={**os.environ, **settings_env(settings)}, stdout=out, stderr=subprocess.STDOUT)
                indexed_then = wait_until_indexed(settings, int(KILL_AT * dumps.release_count), ingest, ingest_log)
                load.release_id = next(mongo[settings.mongo_db].releases.find().limit(1))["id"]
                at_s = down_s = None
                kill_at = started
                if killed != "nothing":
                    kill_at = time.monotonic()
                    kill(killed, stack_settings, supervisor)
                    at_s = kill_at - started
                    # The held insert is answered now: the YouTube worker goes on while the server is down.
                    hold.release.set()
                    time.sleep(DOWN_S)
                    restart(killed, dataget_bin, supervisor, starters)
                    down_s = time.monotonic() - kill_at
                else:
                    hold.release.set()
                assert ingest.wait(timeout=900) == 0, ingest_log.read_text()[-3000:]
                caught_up_s = time.monotonic() - kill_at
                doc = wait_for_job(mongo, settings, job["job_id"], timeout=300)
                # The site is left to recover by itself: wait for its first answers after the restart.
                deadline = time.monotonic() + 120
                kinds = NEEDED_BY.get(killed, (INDEX, RECORD))
                while back_at(load.answers, kinds, kill_at) is None and time.monotonic() < deadline:
                    time.sleep(0.5)
            answers = list(load.answers)
        exits = Counter(supervisor.exits)
    finally:
        supervisor.close()
        if ingest is not None:
            stop_children([ingest])
        if killed in SERVERS:
            stack_up(dataget_bin)  # whatever happened: the others share these servers
    try:
        documents_lost = mongo_lost(mongo, settings, expected_docs)
    finally:
        mongo.close()
    counts = asyncio.run(index_state(settings))
    lost = sum(documents_lost.values()) + index_lost(counts, expected_counts)
    [playlist] = fake.playlists()
    duplicates = len(playlist.video_ids) - len(set(playlist.video_ids))
    site_back = back_at(answers, kinds, kill_at)
    refused = unavailable(answers, kinds, kill_at, kill_at + (down_s or 0))
    fault_table.append(FaultRow(
        killed=killed, at_s=at_s, indexed_then=None if at_s is None else indexed_then, releases=dumps.release_count,
        down_s=down_s,
        site_back_s=None if site_back is None else site_back - kill_at, caught_up_s=caught_up_s,
        unavailable=sum(1 for a in answers if a.status == 503),
        exits=", ".join(f"{e.name} exit {e.code} ×{n}" for e, n in sorted(exits.items(), key=str)), lost=lost,
        duplicates=duplicates))

    assert documents_lost == dict.fromkeys(expected_docs, 0)
    assert counts == expected_counts
    assert (doc["state"], doc["done"]) == ("done", len(VIDEOS)), doc
    assert playlist.video_ids == VIDEOS  # each once, in order
    assert fake.calls.count("playlists.insert") == 1
    assert failures(answers) == []
    assert site_back is not None, f"the site did not answer {kinds} again after the kill"
    if killed in NEEDED_BY:
        assert refused, f"no 503 while {killed} was down"
