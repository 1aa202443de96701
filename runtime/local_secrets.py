"""Secrets for a developer machine: generated once into the state folder when DATAGET_* doesn't provide them."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet

from runtime.settings import Settings

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
    stored = _stored_secrets(Path(settings.state_dir) / FILE_NAME)
    return settings.with_(
        token_key=settings.token_key or stored["token_key"],
        session_secret=settings.session_secret or stored["session_secret"],
    )


def _stored_secrets(path: Path) -> dict[str, str]:
    """The secrets in `path`, created if missing. Processes starting together (`dataget web --processes 2`) race
    here: the file is written aside (mkstemp: mode 0600) and hard-linked into place, so it appears whole or not at
    all, and the processes that lose the race read the winner's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(new_secrets(), fh)
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
        finally:
            os.unlink(aside)
    loaded: dict[str, str] = json.loads(path.read_text())
    return loaded
