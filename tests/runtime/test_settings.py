from __future__ import annotations

from pathlib import Path

import pytest

from runtime.settings import Settings, memory_bytes, settings_env, settings_from_env
from schemas.topics import Topics


def test_defaults_use_the_local_stack_ports() -> None:
    settings = settings_from_env({})
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.mongo_url.endswith(":27018/")
    assert settings.redis_url.endswith(":16379/0")
    assert not settings.external_stack


def test_all_three_server_variables_mean_external_servers() -> None:
    env = {"DATAGET_KAFKA_BOOTSTRAP": "k:9092", "DATAGET_MONGO_URL": "mongodb://m/", "DATAGET_REDIS_URL": "redis://r"}
    settings = settings_from_env(env)
    assert settings.external_stack and settings.kafka_bootstrap == "k:9092"


def test_a_partial_set_of_server_variables_is_an_error() -> None:
    with pytest.raises(ValueError, match="DATAGET_REDIS_URL"):
        settings_from_env({"DATAGET_KAFKA_BOOTSTRAP": "k:9092", "DATAGET_MONGO_URL": "mongodb://m/"})


def test_settings_env_round_trips() -> None:
    original = Settings(topics=Topics("x."), mongo_db="db1", namespace="ns1", web_port=9999,
                        state_dir=Path("/tmp/s"), max_delete_share=0.25,
                        redis_replica_urls=("redis://r1:6379/0", "redis://r2:6379/0"))
    again = settings_from_env(settings_env(original))
    assert again.with_(external_stack=False) == original


def test_the_site_database_follows_the_catalog_database() -> None:
    assert Settings(mongo_db="discogs_v3").app_mongo_db == "discogs_v3_app"


def test_replica_urls_are_a_comma_separated_list() -> None:
    settings = settings_from_env({"DATAGET_REDIS_REPLICA_URLS": " redis://a:1/0 ,, redis://b:2/0"})
    assert settings.redis_replica_urls == ("redis://a:1/0", "redis://b:2/0")
    assert settings_from_env({"DATAGET_REDIS_REPLICA_URLS": ""}).redis_replica_urls == ()


def test_mongo_documents_are_plain_or_compressed():
    assert settings_from_env({}).mongo_documents == "plain"
    assert settings_from_env({"DATAGET_MONGO_DOCUMENTS": "compressed"}).mongo_documents == "compressed"
    with pytest.raises(ValueError, match="DATAGET_MONGO_DOCUMENTS: 'zip' is not one of plain, compressed"):
        settings_from_env({"DATAGET_MONGO_DOCUMENTS": "zip"})


def test_rate_limits_and_trusted_proxies_from_the_environment():
    settings = settings_from_env({"DATAGET_RATE_LIMIT": "2.5", "DATAGET_RATE_BURST": "7", "DATAGET_QUERY_RATE": "0",
                                  "DATAGET_TRUSTED_PROXIES": "10.0.0.0/8, ::1"})
    assert (settings.rate_limit_per_s, settings.rate_limit_burst, settings.query_rate_per_process) == (2.5, 7, 0)
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert settings_from_env(settings_env(settings)).with_(external_stack=False) == settings


def test_youtube_budget_and_playlist_limits_from_the_environment():
    defaults = settings_from_env({})
    assert (defaults.youtube_daily_units, defaults.playlist_max_active_jobs, defaults.playlist_max_videos) == (
        10_000, 2, 199)
    settings = settings_from_env({"DATAGET_YOUTUBE_DAILY_UNITS": "1000000", "DATAGET_PLAYLIST_MAX_ACTIVE_JOBS": "5",
                                  "DATAGET_PLAYLIST_MAX_VIDEOS": "5000"})
    assert (settings.youtube_daily_units, settings.playlist_max_active_jobs, settings.playlist_max_videos) == (
        1_000_000, 5, 5000)
    assert settings_from_env(settings_env(settings)).with_(external_stack=False) == settings


def test_redis_maxmemory_is_a_size_in_redis_units_or_a_share_of_physical_memory():
    gib = 1024**3
    assert memory_bytes("60%", physical=24 * gib) == int(14.4 * gib)
    assert (memory_bytes("14gb", 1), memory_bytes("800MB", 1), memory_bytes("2g", 1), memory_bytes("123", 1)) == (
        14 * gib, 800 * 1024**2, 2 * 10**9, 123)
    for bad in ("lots", "12tb", "0%", "101%", ""):
        with pytest.raises(ValueError, match="DATAGET_REDIS_MAXMEMORY"):
            memory_bytes(bad, 1)
    with pytest.raises(ValueError, match="DATAGET_REDIS_MAXMEMORY"):
        settings_from_env({"DATAGET_REDIS_MAXMEMORY": "a lot"})


def test_index_memory_settings_from_the_environment():
    defaults = settings_from_env({})
    assert (defaults.redis_maxmemory, defaults.index_memory_limit) == ("60%", 0.9)
    settings = settings_from_env({"DATAGET_REDIS_MAXMEMORY": "12gb", "DATAGET_INDEX_MEMORY_LIMIT": "0.8"})
    assert (settings.redis_maxmemory, settings.index_memory_limit) == ("12gb", 0.8)
    assert settings_from_env(settings_env(settings)).with_(external_stack=False) == settings
    for bad in ("0", "1.5"):
        with pytest.raises(ValueError, match="DATAGET_INDEX_MEMORY_LIMIT"):
            settings_from_env({"DATAGET_INDEX_MEMORY_LIMIT": bad})
