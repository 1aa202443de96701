"""Publishes records, tombstones, dead letters and dump events with one idempotent kafka-python producer."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError

from dataget.settings import Settings

log = logging.getLogger(__name__)

DUMP_VERSION_HEADER = "dump_version"


class PublishError(RuntimeError):
    """Kafka did not acknowledge a message; nothing after the last checkpoint may be considered published."""


def encode(value: Any) -> bytes:
    return orjson.dumps(value)


class Publisher:
    def __init__(self, settings: Settings, **overrides: Any) -> None:
        config: dict[str, Any] = {
            "bootstrap_servers": settings.kafka_bootstrap,
            "client_id": "dataget-producer",
            # Idempotence with acks=all: retries never duplicate or reorder within a partition.
            "acks": "all",
            "enable_idempotence": True,
            "compression_type": "lz4",
            "linger_ms": 50,
            "batch_size": 512 * 1024,
            "max_request_size": 8 * 1024 * 1024,
        }
        config.update(overrides)
        self._producer = KafkaProducer(**config)
        self._failures: list[BaseException] = []

    def _on_error(self, exc: BaseException) -> None:
        self._failures.append(exc)

    def send(self, topic: str, key: str, value: bytes | None, headers: dict[str, str] | None = None) -> None:
        header_list = [(k, v.encode()) for k, v in (headers or {}).items()]
        future = self._producer.send(topic, key=key.encode(), value=value, headers=header_list)
        future.add_errback(self._on_error)

    def send_json(self, topic: str, key: str, value: Any) -> None:
        self.send(topic, key, encode(value))

    def checkpoint(self) -> None:
        """Block until everything sent so far is acknowledged; raise if anything failed."""
        try:
            self._producer.flush()
        except KafkaError as exc:
            raise PublishError(f"flush failed: {exc}") from exc
        if self._failures:
            first = self._failures[0]
            self._failures.clear()
            raise PublishError(f"Kafka rejected a message: {first!r}")

    def close(self) -> None:
        self._producer.close()
