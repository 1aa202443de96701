import argparse

import pytest

from dataget.commands import web as cli
from dataget.stack.process import free_port
from tests.site_process import wait_until_answering


def test_web_subcommand_options():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["web", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port, args.func) == ("0.0.0.0", 9000, cli.run)
    defaults = parser.parse_args(["web"])
    assert (defaults.host, defaults.port) == (None, None)


def _start_web(dataget_bin, settings, port: int, processes: int):
    import os
    import subprocess

    from runtime.settings import settings_env

    env = {**os.environ, **settings_env(settings)}
    return subprocess.Popen([str(dataget_bin), "web", "--port", str(port), "--processes", str(processes)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.stack
def test_several_server_processes_share_the_port_and_stop_together(dataget_bin, isolated_settings) -> None:
    import signal
    from pathlib import Path

    port = free_port()
    site = _start_web(dataget_bin, isolated_settings, port, processes=2)
    try:
        wait_until_answering(site, f"http://127.0.0.1:{port}/api/v1/facets/genre", timeout=60)
        children = Path(f"/proc/{site.pid}/task/{site.pid}/children").read_text().split()
        servers = [pid for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert len(servers) == 2
        site.send_signal(signal.SIGTERM)
        assert site.wait(timeout=30) == 0
    finally:
        site.kill()


@pytest.mark.stack
def test_a_server_process_that_cannot_listen_stops_the_site_with_an_error(dataget_bin, isolated_settings) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        site = _start_web(dataget_bin, isolated_settings, taken.getsockname()[1], processes=2)
        try:
            assert site.wait(timeout=60) == 1
        finally:
            site.kill()
