"""A Redis of the stack's own making (the roaring module, AOF) on a free port, for benchmarks and tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dataget.stack.process import free_port
from dataget.stack.services import Service, redis_service


@contextmanager
def private_redis(directory: Path, build_dir: Path, maxmemory: int | None = None,
                  debug_command: bool = False) -> Iterator[tuple[str, Service]]:
    """Starts redis_service's server with its data in directory and the module from build_dir (built if needed);
    yields (URL, service: stop and start it again to restart on the same data) and stops it on leaving."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    service = redis_service(url, build_dir, maxmemory, debug_command)
    try:
        service.start(directory)
        yield url, service
    finally:
        service.process(directory).stop()
