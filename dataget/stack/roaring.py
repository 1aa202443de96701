"""A redis-server with the roaring-bitmap module loaded (stack/redis_roaring), for its benchmark and tests.

A prototype: `dataget stack up` does not load the module and the index scripts do not call it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dataget.stack.builds import redis_roaring_module
from dataget.stack.process import free_port
from dataget.stack.services import Service, redis_service


def roaring_redis_service(url: str, module: Path) -> Service:
    """The stack's Redis (AOF with its RDB preamble, no maxmemory) loading the module; DEBUG RELOAD allowed locally."""
    base = redis_service(url)
    return dataclasses.replace(
        base, prepare=lambda stack_dir: [*base.prepare(stack_dir), "--loadmodule", str(module),
                                         "--enable-debug-command", "local"])


@contextmanager
def roaring_redis(directory: Path, build_dir: Path) -> Iterator[tuple[str, Service]]:
    """Builds the module (cached in build_dir), starts a server on a free port with its data in directory, yields
    (URL, service: stop and start it again to restart on the same data), and stops it on leaving."""
    module = redis_roaring_module(build_dir)
    url = f"redis://127.0.0.1:{free_port()}/0"
    service = roaring_redis_service(url, module)
    try:
        service.start(directory)
        yield url, service
    finally:
        service.process(directory).stop()
