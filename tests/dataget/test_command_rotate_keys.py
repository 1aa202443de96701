"""`dataget rotate-keys` on the real MongoDB."""

from __future__ import annotations

import argparse
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pymongo import MongoClient

from dataget.commands import rotate_keys
from runtime.settings import Settings
from sinks.user_tokens import COLLECTION, UserTokenStore


@pytest.mark.parametrize("delete", [False, True])
def test_rotate_keys_re_encrypts_and_reports_tokens_no_key_decrypts(
        isolated_settings: Settings, capsys: pytest.CaptureFixture[str], delete: bool) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    client: MongoClient[dict[str, Any]] = MongoClient(isolated_settings.mongo_url)
    db = client[isolated_settings.app_mongo_db]
    UserTokenStore(db, old).save("google:1", {"access_token": "a", "refresh_token": "r"})
    UserTokenStore(db, Fernet.generate_key().decode()).save("google:lost", {"access_token": "x"})
    settings = isolated_settings.with_(token_key=f"{new},{old}", session_secret="s")
    assert rotate_keys.run(argparse.Namespace(delete_undecryptable=delete), settings) == 0
    out = capsys.readouterr().out
    assert "re-encrypted 1 token(s)" in out and "1 token(s) no listed key decrypts" in out
    assert UserTokenStore(db, new).load("google:1") == {"access_token": "a", "refresh_token": "r"}
    assert db[COLLECTION].count_documents({"_id": "google:lost"}) == (0 if delete else 1)
    client.close()
