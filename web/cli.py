"""`dataget web`: serve the site."""

from __future__ import annotations

import argparse

from aiohttp import web

from dataget.local_secrets import with_local_secrets
from dataget.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("web", help="serve the website and its API")
    parser.add_argument("--host", help="listen address (default: DATAGET_WEB_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="listen port (default: DATAGET_WEB_PORT or 8080)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    # Imported on use: the site's dependencies are heavy for the other subcommands.
    from web.app import create_app

    web.run_app(
        create_app(with_local_secrets(settings)),
        host=args.host or settings.web_host,
        port=args.port or settings.web_port,
    )
    return 0
