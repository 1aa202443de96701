"""The local real stack: Kafka (KRaft), FerretDB and Redis on loopback, or external servers from DATAGET_*."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dataget.stack import builds
from dataget.stack.process import StackError
from dataget.stack.services import (
    Service,
    ferretdb_service,
    kafka_service,
    redis_replica_service,
    redis_service,
)
from runtime.settings import Settings, memory_bytes, physical_memory

__all__ = ["StackError", "build_dir", "ensure_stack", "services", "stack_build", "stack_down", "stack_status",
           "stack_up"]


def _stack_dir(settings: Settings) -> Path:
    # Absolute, because builds and servers run with other working directories.
    return Path(settings.stack_dir).resolve()


def build_dir(settings: Settings) -> Path:
    """Where the server builds are kept; servers started elsewhere (benchmarks, tests) take the Redis module here."""
    return _stack_dir(settings) / "build"


def services(settings: Settings) -> list[Service]:
    maxmemory = memory_bytes(settings.redis_maxmemory, physical_memory())
    builds_at = build_dir(settings)
    return [
        redis_service(settings.redis_url, builds_at, maxmemory),
        *(redis_replica_service(url, settings.redis_url, builds_at, maxmemory) for url in settings.redis_replica_urls),
        ferretdb_service(settings.mongo_url),
        kafka_service(settings.kafka_bootstrap),
    ]


def service(settings: Settings, name: str) -> Service:
    for svc in services(settings):
        if svc.name == name:
            return svc
    raise ValueError(f"unknown service {name!r}")


def stack_build(settings: Settings) -> dict[str, Path]:
    """Build (or find cached) server binaries without starting anything."""
    builds_at = build_dir(settings)
    return {"kafka": builds.kafka_libs(builds_at), "ferretdb": builds.ferretdb_binary(builds_at),
            "redis": builds.redis_roaring_module(builds_at)}


def stack_up(settings: Settings) -> list[str]:
    """Start what isn't running (idempotent), restarting a Redis that lacks the roaring module; with external servers
    only check they answer (and have the module)."""
    started = []
    for svc in services(settings):
        if settings.external_stack:
            if not svc.probe():
                raise StackError(f"external {svc.name} at {svc.host}:{svc.port} does not answer")
            if svc.outdated and (reason := svc.outdated(None)):
                raise StackError(f"external {svc.name} at {svc.host}:{svc.port} is {reason}: load it as "
                                 "docs/operations.md says")
            continue
        if svc.start(_stack_dir(settings)):
            started.append(svc.name)
    return started


def stack_status(settings: Settings) -> dict[str, str]:
    status = {}
    for svc in services(settings):
        pid = None if settings.external_stack else svc.process(_stack_dir(settings)).pid()
        answering = svc.probe()
        where = "external" if settings.external_stack else (f"pid {pid}" if pid else "not running")
        status[svc.name] = f"{'up' if answering else 'DOWN'} ({where}, {svc.host}:{svc.port})"
    return status


def stack_down(settings: Settings, purge: bool = False) -> list[str]:
    if settings.external_stack:
        raise StackError("DATAGET_* point at external servers; this stack did not start them")
    stopped = [svc.name for svc in reversed(services(settings)) if svc.process(_stack_dir(settings)).stop()]
    if purge:
        shutil.rmtree(_stack_dir(settings) / "data", ignore_errors=True)
        shutil.rmtree(_stack_dir(settings) / "logs", ignore_errors=True)
    return stopped


@contextmanager
def ensure_stack(settings: Settings) -> Iterator[Settings]:
    """For pytest: bring the stack up; stop at the end only what this call started."""
    started = stack_up(settings)
    try:
        yield settings
    finally:
        for svc in reversed(services(settings)):
            if svc.name in started:
                svc.process(_stack_dir(settings)).stop()
