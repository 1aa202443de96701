"""Secrets for a developer machine: generated once into the state folder when DATAGET_* doesn't provide them."""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from dataget.settings import Settings

FILE_NAME = "local-secrets.json"


def new_secrets() -> dict[str, str]:
    return {
        "token_key": Fernet.generate_key().decode(),
        "session_secret": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    }


def with_local_secrets(settings: Settings) -> Settings:
    """Fill missing token key / session secret from (or into) `<state_dir>/local-secrets.json`, mode 0600."""
    if settings.token_key and settings.session_secret:
        return settings
    path = Path(settings.state_dir) / FILE_NAME
    if path.exists():
        stored = json.loads(path.read_text())
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = new_secrets()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(stored, fh)
    return settings.with_(
        token_key=settings.token_key or stored["token_key"],
        session_secret=settings.session_secret or stored["session_secret"],
    )


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("keygen", help="print fresh DATAGET_TOKEN_KEY and DATAGET_SESSION_SECRET values")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    fresh = new_secrets()
    print(f"DATAGET_TOKEN_KEY={fresh['token_key']}")
    print(f"DATAGET_SESSION_SECRET={fresh['session_secret']}")
    return 0
