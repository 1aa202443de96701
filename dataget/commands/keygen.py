"""`dataget keygen`: fresh values for the token key and the session secret."""

from __future__ import annotations

import argparse

from runtime.local_secrets import new_secrets
from runtime.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("keygen", help="print fresh DATAGET_TOKEN_KEY and DATAGET_SESSION_SECRET values")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    fresh = new_secrets()
    print(f"DATAGET_TOKEN_KEY={fresh['token_key']}")
    print(f"DATAGET_SESSION_SECRET={fresh['session_secret']}")
    return 0
