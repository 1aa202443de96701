"""A throwaway namespace leaves nothing behind on the real servers, and only it goes."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from pymongo import MongoClient

from dataget.throwaway import drop_throwaway, throwaway_settings
from runtime.settings import Settings
from runtime.topic_admin import ensure_topics
from schemas.topics import indexer_group_id

pytestmark = pytest.mark.stack


def test_topics_databases_keys_and_state_of_the_namespace_go_others_stay(stack_settings: Settings,
                                                                         tmp_path: Path) -> None:
    settings = throwaway_settings(stack_settings, tmp_path / "state")
    neighbour = throwaway_settings(stack_settings, tmp_path / "other")
    faust_topic = f"{indexer_group_id(settings.namespace)}-__assignor-__leader"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    mongo: MongoClient[dict[str, object]] = MongoClient(settings.mongo_url)
    keys = redis.Redis.from_url(settings.redis_url)
    try:
        created = ensure_topics(settings)
        admin.create_topics([NewTopic(faust_topic, 1, 1)])
        for name in (settings.mongo_db, settings.app_mongo_db, neighbour.mongo_db):
            mongo[name]["c"].insert_one({"_id": 1})
        keys.set(f"{settings.namespace}:v0:gen", 1)
        keys.set(f"{settings.namespace}:active", "x")
        keys.set(f"{neighbour.namespace}:v0:gen", 1)
        for state in (settings.state_dir, neighbour.state_dir):
            state.mkdir(parents=True)
            (state / "hashes.sqlite").write_bytes(b"")

        drop_throwaway(settings)

        left = set(admin.list_topics())
        assert not left & {*created, faust_topic}
        assert settings.mongo_db not in mongo.list_database_names()
        assert settings.app_mongo_db not in mongo.list_database_names()
        assert neighbour.mongo_db in mongo.list_database_names()
        assert list(keys.scan_iter(f"{settings.namespace}:*")) == []
        assert keys.get(f"{neighbour.namespace}:v0:gen") == b"1"
        assert not settings.state_dir.exists() and neighbour.state_dir.exists()
    finally:
        drop_throwaway(neighbour)
        admin.close()
        mongo.close()
        keys.close()


def test_the_default_namespace_is_never_dropped() -> None:
    with pytest.raises(ValueError, match="not throwaway"):
        drop_throwaway(Settings())
