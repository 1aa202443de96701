"""`dataget rotate-keys`: re-encrypt every stored OAuth token with the first key of DATAGET_TOKEN_KEY."""

from __future__ import annotations

import argparse
from typing import Any

from pymongo import MongoClient

from runtime.local_secrets import with_local_secrets
from runtime.settings import Settings
from sinks.user_tokens import UserTokenStore

# Seconds to wait for MongoDB before it counts as not answering.
MONGO_TIMEOUT_MS = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "rotate-keys", help="re-encrypt stored OAuth tokens with the first key of DATAGET_TOKEN_KEY",
        description="Rotating the token key: set DATAGET_TOKEN_KEY=NEW,OLD (site and YouTube worker), run this, then "
                    "set DATAGET_TOKEN_KEY=NEW. Tokens no listed key decrypts are reported (their users must sign "
                    "in again).")
    parser.add_argument("--delete-undecryptable", action="store_true",
                        help="also delete the tokens no listed key decrypts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings = with_local_secrets(settings)
    client: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url, serverSelectionTimeoutMS=MONGO_TIMEOUT_MS)
    try:
        tokens = UserTokenStore(client[settings.app_mongo_db], settings.token_key)
        rotated, lost = tokens.rotate()
        print(f"re-encrypted {rotated} token(s) with the first key")
        if lost:
            verb = "deleted" if args.delete_undecryptable else "left in place"
            print(f"{len(lost)} token(s) no listed key decrypts ({verb}; those users must sign in again)")
            if args.delete_undecryptable:
                for user_id in lost:
                    tokens.delete(user_id)
        return 0
    finally:
        client.close()
