"""docker-compose.yml can't run here (no Docker engine): check it parses and wires what the app reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runtime.settings import _ENV, _SERVER_VARS, settings_from_env

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("worker", "youtube-worker", "web", "ingest")
COMMANDS = {"worker": "worker", "youtube-worker": "youtube-worker", "web": "web", "ingest": "ingest"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_infrastructure_and_app_services(compose: dict) -> None:
    assert {"kafka", "mongo", "redis", *APP_SERVICES} <= set(compose["services"])
    assert compose["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_every_server_url(compose: dict, name: str) -> None:
    service = compose["services"][name]
    env = service["environment"]
    assert set(_SERVER_VARS) <= set(env), f"{name} lacks a server URL"
    # Only variables the app actually reads, so a typo can't silently fall back to a default.
    assert set(env) <= set(_ENV), f"{name} sets unknown variables {set(env) - set(_ENV)}"
    assert set(service["depends_on"]) == {"kafka", "mongo", "redis"}
    # The compose URLs must be accepted by the same parser the app uses.
    resolved = {k: (v if "${" not in str(v) else "x") for k, v in env.items()}
    settings = settings_from_env(resolved)
    assert settings.external_stack
    assert settings.kafka_bootstrap == "kafka:9092"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_existing_subcommands(compose: dict, name: str) -> None:
    from dataget.cli import build_parser

    service = compose["services"][name]
    argv = service.get("command") or service["entrypoint"][1:]
    assert argv[0] == COMMANDS[name]
    subcommands = build_parser()._subparsers._group_actions[0].choices
    assert argv[0] in subcommands


def test_the_replica_override_gives_the_site_a_writable_in_sync_replica(compose: dict) -> None:
    override = yaml.safe_load((ROOT / "docker-compose.replica.yml").read_text())
    replica = override["services"]["redis-replica"]
    command = replica["command"]
    assert command[command.index("--replicaof") + 1] == "redis"
    assert command[command.index("--replica-read-only") + 1] == "no"
    assert command[command.index("--replica-serve-stale-data") + 1] == "no"
    env = override["services"]["web"]["environment"]
    assert set(env) <= set(_ENV)
    merged = {**compose["services"]["web"]["environment"], **env}
    settings = settings_from_env({k: (v if "${" not in str(v) else "x") for k, v in merged.items()})
    assert settings.redis_replica_urls == ("redis://redis-replica:6379/0",)


REDIS_SERVICES = [("docker-compose.yml", "redis"), ("docker-compose.replica.yml", "redis-replica")]


@pytest.mark.parametrize("file, service", REDIS_SERVICES)
def test_redis_has_a_maxmemory_it_keeps_without_evicting(file: str, service: str) -> None:
    command = yaml.safe_load((ROOT / file).read_text())["services"][service]["command"]
    assert command[command.index("--maxmemory") + 1] == "${REDIS_MAXMEMORY:-14gb}"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


@pytest.mark.parametrize("file, service", REDIS_SERVICES)
def test_redis_loads_the_module_its_image_builds(file: str, service: str) -> None:
    redis = yaml.safe_load((ROOT / file).read_text())["services"][service]
    dockerfile = (ROOT / redis["build"] / "Dockerfile").read_text()
    assert "RUN cargo build --release --locked" in dockerfile
    copied = next(line.split()[-1] for line in dockerfile.splitlines() if line.startswith("COPY --from=build"))
    command = redis["command"]
    assert command[0] == "redis-server"
    assert command[command.index("--loadmodule") + 1] == copied
    assert (ROOT / redis["build"] / "Cargo.lock").exists()
