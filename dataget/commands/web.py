"""`dataget web`: serve the site, from one process or several sharing the port."""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import warnings
from multiprocessing.connection import wait
from types import FrameType

from aiohttp import web

from runtime.local_secrets import with_local_secrets
from runtime.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("web", help="serve the website and its API")
    parser.add_argument("--host", help="listen address (default: DATAGET_WEB_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default: DATAGET_WEB_PORT or 8080)")
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes sharing the port (SO_REUSEPORT); one Python process uses one core")
    parser.set_defaults(func=run)


def serve(settings: Settings, host: str, port: int, reuse_port: bool) -> None:
    # Imported on use: the site's dependencies are heavy for the other subcommands.
    import uvloop

    from web.access_log import RedactingAccessLogger
    from web.app import create_app

    # aiohttp-session 2.12.1 (the latest) keeps its storage and session under plain string keys of the request.
    warnings.filterwarnings("ignore", "It is recommended to use web.RequestKey", web.NotAppKeyWarning,
                            "aiohttp_session")
    # uvloop's C event loop: ~7% less CPU per request than asyncio's (bench/query.py, site process CPU).
    web.run_app(create_app(with_local_secrets(settings)), host=host, port=port, reuse_port=reuse_port or None,
                loop=uvloop.new_event_loop(), access_log_class=RedactingAccessLogger)


def run(args: argparse.Namespace, settings: Settings) -> int:
    host, port = args.host or settings.web_host, args.port or settings.web_port
    if args.processes < 1:
        raise SystemExit("--processes must be at least 1")
    if args.processes == 1:
        serve(settings, host, port, reuse_port=False)
        return 0
    # Every process is a whole site: sessions live in the signed cookie and each one follows all playlist
    # jobs' status itself, so any process can answer any request.
    ctx = multiprocessing.get_context("spawn")
    servers = [ctx.Process(target=serve, args=(settings, host, port, True), name=f"web-{n}")
               for n in range(args.processes)]
    for server in servers:
        server.start()
    stopped = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopped
        stopped = True
        for server in servers:
            server.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A server runs until it is stopped: one that exits on its own (port taken, crash) takes the others along.
    wait([server.sentinel for server in servers])
    failed = not stopped
    stop(signal.SIGTERM, None)
    for server in servers:
        server.join()
    return 1 if failed else 0
