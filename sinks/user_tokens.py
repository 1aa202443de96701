"""OAuth tokens of signed-in users, encrypted at rest (Fernet), shared by the site and the YouTube worker.

The key setting may list several keys, comma-separated (MultiFernet): the first encrypts, any of them decrypts.
Rotating: put a new key first, keep the old ones after it, run `dataget rotate-keys` (it re-encrypts every token with
the first key), then drop the old keys.
"""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pymongo.database import Database

COLLECTION = "user_tokens"


class TokenKeyError(ValueError):
    """The configured token key is missing or cannot decrypt what is stored."""


def token_cipher(keys: str) -> MultiFernet:
    """The cipher of a key setting: comma-separated Fernet keys, the first one encrypting."""
    listed = [key.strip() for key in keys.split(",") if key.strip()]
    if not listed:
        raise TokenKeyError("DATAGET_TOKEN_KEY is not set (generate one with `dataget keygen`)")
    try:
        return MultiFernet([Fernet(key.encode()) for key in listed])
    except ValueError as exc:  # the message names no key
        raise TokenKeyError(f"DATAGET_TOKEN_KEY: not a list of Fernet keys ({exc})") from None


class UserTokenStore:
    def __init__(self, db: Database, key: str) -> None:
        self._fernet = token_cipher(key)
        self._tokens = db[COLLECTION]

    def save(self, user_id: str, token: dict[str, Any]) -> None:
        """Store the token; a refresh response without refresh_token keeps the stored one. A stored token no key
        decrypts is replaced (its user just signed in again)."""
        try:
            current = self.load(user_id) or {}
        except TokenKeyError:
            current = {}
        merged = {**current, **token}
        if not token.get("refresh_token") and current.get("refresh_token"):
            merged["refresh_token"] = current["refresh_token"]
        sealed = self._fernet.encrypt(orjson.dumps(merged)).decode()
        self._tokens.replace_one({"_id": user_id}, {"_id": user_id, "token": sealed}, upsert=True)

    def load(self, user_id: str) -> dict[str, Any] | None:
        doc = self._tokens.find_one({"_id": user_id})
        if doc is None:
            return None
        try:
            token: dict[str, Any] = orjson.loads(self._fernet.decrypt(doc["token"].encode()))
            return token
        except InvalidToken as exc:
            raise TokenKeyError(f"stored token of user {user_id} does not decrypt with the configured key") from exc

    def delete(self, user_id: str) -> None:
        self._tokens.delete_one({"_id": user_id})

    def rotate(self) -> tuple[int, list[str]]:
        """Re-encrypt every stored token with the first key: (how many, users whose token no key decrypts)."""
        rotated, lost = 0, []
        for doc in self._tokens.find({}, {"token": 1}):
            try:
                sealed = self._fernet.rotate(doc["token"].encode()).decode()
            except InvalidToken:
                lost.append(doc["_id"])
                continue
            # Only if unchanged meanwhile: a token saved since is encrypted with the first key already.
            self._tokens.update_one({"_id": doc["_id"], "token": doc["token"]}, {"$set": {"token": sealed}})
            rotated += 1
        return rotated, lost
