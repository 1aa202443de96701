"""The local stack's servers as configured: Redis gets DATAGET_REDIS_MAXMEMORY and never evicts, and every Redis
loads the roaring module, a running one without it being restarted with it."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dataget.stack import StackError, build_dir, services, stack_up
from dataget.stack.process import free_port
from dataget.stack.services import ROARING_MODULE, _redis_loading, redis_service
from runtime.settings import Settings, memory_bytes, physical_memory, settings_from_env


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_redis_and_its_replicas_get_the_maxmemory_setting_noeviction_and_the_module(tmp_path: Path) -> None:
    settings = Settings(redis_maxmemory="12gb", redis_replica_urls=("redis://127.0.0.1:16380/0",))
    redis_services = [s for s in services(settings) if s.name.startswith("redis")]
    assert len(redis_services) == 2
    for service in redis_services:
        argv = service.prepare(tmp_path)
        assert option(argv, "--maxmemory") == str(12 * 1024**3)
        assert option(argv, "--maxmemory-policy") == "noeviction"
        assert Path(option(argv, "--loadmodule")) == build_dir(settings) / "redis_roaring" / "libredis_roaring.so"
        assert "--enable-debug-command" not in argv
    default = next(s for s in services(Settings()) if s.name == "redis").prepare(tmp_path)
    assert option(default, "--maxmemory") == str(memory_bytes("60%", physical_memory()))


def commands(conn: socket.socket) -> Iterator[list[bytes]]:
    """The RESP commands a client sends on conn, one at a time."""
    reader = conn.makefile("rb")
    while header := reader.readline():
        words = []
        for _ in range(int(header[1:])):
            length = int(reader.readline()[1:])
            words.append(reader.read(length + 2)[:-2])
        yield words


@contextlib.contextmanager
def answering(replies: list[bytes | None]) -> Iterator[str]:
    """A server answering its n-th connection's PING with replies[n] (None: never answers), the rest as Redis 7."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def serve() -> None:
        for reply in replies:
            conn, _ = server.accept()
            held.append(conn)
            for words in commands(conn):
                if words[0].upper() == b"HELLO":
                    conn.sendall(b"%1\r\n$5\r\nproto\r\n:3\r\n")
                    continue
                if words[0].upper() != b"PING":
                    conn.sendall(b"+OK\r\n")
                    continue
                if reply is not None:
                    conn.sendall(reply)
                break

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        server.close()
        for conn in held:
            conn.close()


def test_a_redis_saying_loading_silent_or_just_answering_is_waited_for_one_refusing_or_failing_is_not() -> None:
    loading_reply = b"-LOADING Redis is loading the dataset in memory\r\n"
    with answering([loading_reply, None, b"+PONG\r\n", b"-ERR unknown command\r\n"]) as url:
        loading = _redis_loading(url)
        assert [loading(), loading(), loading(), loading()] == [True, True, True, False]
    with socket.create_server(("127.0.0.1", 0)) as closed:
        url = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
    assert _redis_loading(url)() is False


@pytest.mark.stack
def test_a_redis_without_the_module_is_restarted_with_it_keeping_its_data_unless_external(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    service = redis_service(url, build_dir(settings_from_env()))

    def without_module(stack_dir: Path) -> list[str]:
        argv = service.prepare(stack_dir)
        at = argv.index("--loadmodule")
        return argv[:at] + argv[at + 2:]

    try:
        assert dataclasses.replace(service, prepare=without_module).start(tmp_path)
        client = redis.Redis.from_url(url)
        client.set("kept", "in the AOF")
        with pytest.raises(StackError, match="without the 'roaring' module"):  # an external one is not ours to restart
            stack_up(Settings(external_stack=True, redis_url=url))
        old_pid = service.process(tmp_path).pid()
        # Restarted, yet reported as running before: whoever started it is the one to stop it.
        assert not service.start(tmp_path)
        new_pid = service.process(tmp_path).pid()
        assert new_pid not in (None, old_pid)
        assert [module[b"name"] for module in client.module_list()] == [ROARING_MODULE.encode()]
        assert client.get("kept") == b"in the AOF"
        assert not service.start(tmp_path)
        assert service.process(tmp_path).pid() == new_pid  # has the module: left running
    finally:
        service.process(tmp_path).stop()


@pytest.mark.stack
def test_a_redis_running_a_replaced_build_of_the_module_is_restarted(tmp_path: Path) -> None:
    # A build folder of the test's own (the stack's build copied, stamp and all), so replacing its module is local.
    builds_at = tmp_path / "build"
    shutil.copytree(build_dir(settings_from_env()) / "redis_roaring", builds_at / "redis_roaring",
                    ignore=shutil.ignore_patterns("target"))
    module = builds_at / "redis_roaring" / "libredis_roaring.so"
    service = redis_service(f"redis://127.0.0.1:{free_port()}/0", builds_at)
    try:
        assert service.start(tmp_path)
        first = service.process(tmp_path).pid()
        assert not service.start(tmp_path)
        assert service.process(tmp_path).pid() == first  # the same build: left running

        shutil.copy(module, tmp_path / "new.so")
        os.replace(tmp_path / "new.so", module)  # as builds.redis_roaring_module replaces it
        assert not service.start(tmp_path)
        assert service.process(tmp_path).pid() not in (None, first)
    finally:
        service.process(tmp_path).stop()


def test_the_stacks_redis_has_the_module(stack_settings: Settings) -> None:
    client = redis.Redis.from_url(stack_settings.redis_url)
    assert ROARING_MODULE.encode() in {module[b"name"] for module in client.module_list()}
