"""The local stack's servers as configured: Redis gets DATAGET_REDIS_MAXMEMORY and never evicts."""

from __future__ import annotations

from pathlib import Path

from dataget.stack import services
from runtime.settings import Settings, memory_bytes, physical_memory


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_redis_and_its_replicas_get_the_maxmemory_setting_and_noeviction(tmp_path: Path) -> None:
    settings = Settings(redis_maxmemory="12gb", redis_replica_urls=("redis://127.0.0.1:16380/0",))
    redis, replica = (s for s in services(settings) if s.name.startswith("redis"))
    for service in (redis, replica):
        argv = service.prepare(tmp_path)
        assert option(argv, "--maxmemory") == str(12 * 1024**3)
        assert option(argv, "--maxmemory-policy") == "noeviction"
    default = next(s for s in services(Settings()) if s.name == "redis").prepare(tmp_path)
    assert option(default, "--maxmemory") == str(memory_bytes("60%", physical_memory()))
