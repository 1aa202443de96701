"""Tokens at rest: several keys (the first encrypts), rotation, and tokens no key decrypts (real MongoDB)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pymongo import MongoClient
from pymongo.database import Database

from runtime.settings import Settings
from sinks.user_tokens import COLLECTION, TokenKeyError, UserTokenStore, token_cipher

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


@pytest.fixture
def db(isolated_settings: Settings) -> Iterator[Database]:
    client: MongoClient[dict[str, Any]] = MongoClient(isolated_settings.mongo_url)
    yield client[isolated_settings.app_mongo_db]
    client.close()


def test_a_key_list_decrypts_with_any_key_and_encrypts_with_the_first(db: Database) -> None:
    UserTokenStore(db, OLD).save("u1", {"access_token": "a1", "refresh_token": "r1"})
    both = UserTokenStore(db, f"{NEW}, {OLD}")
    assert both.load("u1") == {"access_token": "a1", "refresh_token": "r1"}
    both.save("u2", {"access_token": "a2"})
    assert UserTokenStore(db, NEW).load("u2") == {"access_token": "a2"}
    with pytest.raises(TokenKeyError):
        UserTokenStore(db, OLD).load("u2")


def test_rotation_re_encrypts_every_token_and_names_those_no_key_decrypts(db: Database) -> None:
    UserTokenStore(db, OLD).save("u1", {"access_token": "a1", "refresh_token": "r1"})
    UserTokenStore(db, NEW).save("u2", {"access_token": "a2"})
    UserTokenStore(db, OTHER).save("lost", {"access_token": "a3"})
    rotated, lost = UserTokenStore(db, f"{NEW},{OLD}").rotate()
    assert (rotated, lost) == (2, ["lost"])
    only_new = UserTokenStore(db, NEW)  # the old key can go now
    assert only_new.load("u1") == {"access_token": "a1", "refresh_token": "r1"}
    assert only_new.load("u2") == {"access_token": "a2"}
    assert db[COLLECTION].count_documents({}) == 3


def test_saving_over_a_token_no_key_decrypts_replaces_it(db: Database) -> None:
    UserTokenStore(db, OTHER).save("u1", {"access_token": "old", "refresh_token": "r-old"})
    store = UserTokenStore(db, NEW)
    store.save("u1", {"access_token": "new", "refresh_token": "r-new"})  # the user signed in again
    assert store.load("u1") == {"access_token": "new", "refresh_token": "r-new"}


@pytest.mark.parametrize("keys", ["", " , ", "not-a-key", f"{NEW},short"])
def test_a_bad_key_setting_is_a_token_key_error_that_shows_no_key(keys: str) -> None:
    with pytest.raises(TokenKeyError) as error:
        token_cipher(keys)
    assert NEW not in str(error.value)
