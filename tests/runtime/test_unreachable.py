"""A command whose server does not answer says which one and what to do, instead of a client's traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import aiokafka.errors
import kafka.errors
import pymongo.errors
import redis.exceptions

from dataget.stack.process import free_port
from runtime.settings import Settings, settings_env
from runtime.unreachable import (
    UNREACHABLE,
    ServerUnreachable,
    mongo_address,
    unreachable_message,
    unreachable_server,
)

SETTINGS = Settings(kafka_bootstrap="k1:9092", mongo_url="mongodb://user:secret@m1:27017,m2/",
                    redis_url="redis://:pw@r1:6380/2")


def test_each_clients_connection_error_names_its_server() -> None:
    assert unreachable_server(kafka.errors.KafkaTimeoutError("Unable to bootstrap"), SETTINGS) == "Kafka at k1:9092"
    assert unreachable_server(aiokafka.errors.KafkaTimeoutError(), SETTINGS) == "Kafka at k1:9092"
    assert unreachable_server(pymongo.errors.ServerSelectionTimeoutError("m1"), SETTINGS) == (
        "MongoDB at m1:27017,m2:27017")
    assert unreachable_server(redis.exceptions.ConnectionError("refused"), SETTINGS) == "Redis at r1:6380"


def test_a_server_that_answered_is_not_called_unreachable() -> None:
    assert unreachable_server(redis.exceptions.AuthenticationError("invalid password"), SETTINGS) is None
    assert unreachable_server(ValueError("bad record"), SETTINGS) is None


def test_an_error_raised_from_a_connection_error_is_traced_to_it() -> None:
    try:
        try:
            raise redis.exceptions.ConnectionError("refused")
        except redis.exceptions.ConnectionError as exc:
            raise RuntimeError("index unavailable") from exc
    except RuntimeError as exc:
        assert unreachable_server(exc, SETTINGS) == "Redis at r1:6380"


def test_the_message_keeps_credentials_out_and_says_what_to_do() -> None:
    exc = redis.exceptions.ConnectionError("refused")
    local = unreachable_message(exc, SETTINGS)
    external = unreachable_message(exc, SETTINGS.with_(external_stack=True))
    assert local is not None and "`dataget stack up`" in local
    assert external is not None and "DATAGET_* variables" in external
    assert "secret" not in mongo_address(SETTINGS.mongo_url)
    assert all("pw" not in line for line in (local, external))


def test_a_long_client_message_is_cut() -> None:
    message = unreachable_message(pymongo.errors.ServerSelectionTimeoutError("m1:27017: refused, " + "x" * 5000),
                                  SETTINGS)
    assert message is not None and "m1:27017: refused" in message and len(message) < 400


def run_with_redis_down(dataget_bin: Path, settings: Settings,
                        *command: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the console script against the stack's Kafka and MongoDB and a Redis port nothing listens on."""
    port = free_port()
    down = settings.with_(redis_url=f"redis://127.0.0.1:{port}/0", external_stack=True)
    done = subprocess.run([str(dataget_bin), *command], env={**settings_env(down), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)
    return done, f"Redis at 127.0.0.1:{port} does not answer: check that it runs"


def test_a_command_whose_redis_is_down_exits_with_one_line_not_a_traceback(
        isolated_settings: Settings, dataget_bin: Path) -> None:
    done, says = run_with_redis_down(dataget_bin, isolated_settings, "reindex")
    assert done.returncode == UNREACHABLE
    assert done.stderr.startswith(f"dataget reindex: {says}")
    assert "Traceback" not in done.stderr


def test_status_with_redis_down_still_reports_the_topics(isolated_settings: Settings, dataget_bin: Path) -> None:
    done, says = run_with_redis_down(dataget_bin, isolated_settings, "status")
    assert done.returncode == UNREACHABLE, done.stderr
    assert isolated_settings.topics.entity("releases") in done.stdout
    assert says in done.stdout
    assert "Traceback" not in done.stderr


def test_a_server_named_across_a_process_boundary_is_found() -> None:
    try:
        raise RuntimeError("a parser process failed") from ServerUnreachable("Kafka at k1:9092")
    except RuntimeError as exc:
        assert unreachable_server(exc, SETTINGS) == "Kafka at k1:9092"
