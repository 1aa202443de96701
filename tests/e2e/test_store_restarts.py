"""Redis and FerretDB restarted while a dump is being indexed: the stores still converge to the topics."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from pymongo import MongoClient

from dataget.stack import service
from dataget.synth.dump_set import write_dump_set
from runtime.settings import settings_env
from tests.index_counts import expected_index, index_state
from tests.worker_process import running_worker

pytestmark = [pytest.mark.stack, pytest.mark.slow]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("server", ["redis", "ferretdb"])
def test_restarting_a_store_during_ingest_loses_nothing(
    server, dataget_bin, isolated_settings, stack_settings, tmp_path
) -> None:
    if stack_settings.external_stack:
        pytest.skip("needs the local stack: external servers are not ours to restart")
    settings = isolated_settings
    dumps = write_dump_set(tmp_path / "dump", 1500, seed=11)
    env = {**os.environ, **settings_env(settings)}
    target = service(stack_settings, server)
    stack_dir = stack_settings.stack_dir.resolve()

    def restart_soon() -> None:
        time.sleep(2)  # the worker is indexing by now
        target.process(stack_dir).stop()
        time.sleep(2)
        target.start(stack_dir)

    with running_worker(dataget_bin, settings, tmp_path / "worker.log") as worker:
        # The store stops once the worker runs: one that cannot reach Redis at start refuses to run at all.
        wait_for_line(worker, tmp_path / "worker.log", "]: Ready")
        bouncer = threading.Thread(target=restart_soon)
        bouncer.start()
        done = subprocess.run([str(dataget_bin), "ingest", str(dumps.releases), "--wait", "--wait-timeout", "300"],
                              env=env, capture_output=True, text=True, timeout=400)
        bouncer.join()
        assert done.returncode == 0, done.stderr + (tmp_path / "worker.log").read_text()[-3000:]

    mongo = MongoClient(settings.mongo_url)
    try:
        assert mongo[settings.mongo_db].releases.count_documents({}) == dumps.release_count
        mongo.drop_database(settings.mongo_db)
    finally:
        mongo.close()
    assert asyncio.run(index_state(settings)) == expected_index(dumps.releases)


def wait_for_line(worker: subprocess.Popen, log: Path, text: str, timeout: float = 120) -> None:
    """Until the running worker's log holds text."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        assert worker.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.5)


@pytest.mark.timeout(600)
def test_a_worker_stopped_while_redis_is_down_exits_and_its_batch_is_redelivered(
    dataget_bin, isolated_settings, stack_settings, tmp_path
) -> None:
    if stack_settings.external_stack:
        pytest.skip("needs the local stack: external servers are not ours to stop")
    settings = isolated_settings
    dumps = write_dump_set(tmp_path / "dump", 300, seed=12)
    env = {**os.environ, **settings_env(settings)}
    redis = service(stack_settings, "redis")
    stack_dir = stack_settings.stack_dir.resolve()
    log = tmp_path / "stuck-worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([str(dataget_bin), "worker", "--shutdown-grace", "3"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    # Redis stops once the worker runs: one that cannot reach it at start refuses to run at all.
    wait_for_line(worker, log, "]: Ready")
    redis.process(stack_dir).stop()
    try:
        published = subprocess.run([str(dataget_bin), "ingest", str(dumps.releases)], env=env,
                                   capture_output=True, text=True, timeout=120)
        assert published.returncode == 0, published.stderr
        wait_for_line(worker, log, "releases batch failed")
        worker.terminate()
        assert worker.wait(timeout=60) == 1, log.read_text()[-3000:]
        assert "exiting without committing" in log.read_text()
    finally:
        worker.kill()
        redis.start(stack_dir)

    # Nothing of the abandoned batch was committed: a new worker indexes every release.
    with running_worker(dataget_bin, settings, tmp_path / "worker.log"):
        caught_up = subprocess.run([str(dataget_bin), "ingest", str(dumps.releases), "--wait", "--wait-timeout", "180"],
                                   env=env, capture_output=True, text=True, timeout=240)
        assert caught_up.returncode == 0, caught_up.stderr
    assert asyncio.run(index_state(settings)) == expected_index(dumps.releases)
