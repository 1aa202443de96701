"""OAuth tokens of signed-in users, encrypted at rest (Fernet), shared by the site and the YouTube worker."""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken
from pymongo.database import Database

COLLECTION = "user_tokens"


class TokenKeyError(ValueError):
    """The configured token key is missing or cannot decrypt what is stored."""


class UserTokenStore:
    def __init__(self, db: Database, key: str) -> None:
        if not key:
            raise TokenKeyError("DATAGET_TOKEN_KEY is not set (generate one with `dataget keygen`)")
        self._fernet = Fernet(key.encode())
        self._tokens = db[COLLECTION]

    def save(self, user_id: str, token: dict[str, Any]) -> None:
        """Store the token; a refresh response without refresh_token keeps the stored one."""
        current = self.load(user_id) or {}
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
