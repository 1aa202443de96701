"""Publishes records, tombstones, dead letters and dump events with one idempotent kafka-python producer."""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError

from runtime.settings import Settings
from runtime.unreachable import unreachable_server

log = logging.getLogger(__name__)

# A checkpoint waits this long for Kafka's acknowledgements: past the producer's own delivery timeout (120 s), so a
# slow cluster is not cut short, while a dead one fails the ingest. With no limit, kafka-python 3.0.12's flush()
# waited forever after the broker was killed mid-ingest.
CHECKPOINT_TIMEOUT_S = 150.0
# Pause between attempts to create a producer whose broker did not answer (kafka-python backs off within an attempt).
CONNECT_PAUSE_S = 1.0
# close() runs after the last checkpoint (or a failure): nothing it could still send is owed to anyone.
CLOSE_TIMEOUT_S = 10.0


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
            # zstd: release JSON batches shrink 5.6x against lz4's 3.7x at the same speed (~410 MB/s per core on
            # 512 KB batches), which decides whether the whole catalogue's topics fit on one disk.
            "compression_type": "zstd",
            "linger_ms": 50,
            "batch_size": 512 * 1024,
            "max_request_size": 8 * 1024 * 1024,
        }
        config.update(overrides)
        self._producer = KafkaProducer(**config)
        self._failures: list[BaseException] = []

    @classmethod
    def connect(cls, settings: Settings, timeout_s: float = CHECKPOINT_TIMEOUT_S) -> Publisher:
        """A Publisher once Kafka answers. kafka-python's constructor raises when no broker answers within its
        bootstrap timeout; a broker being restarted is waited out for as long as a checkpoint waits, then this
        raises a PublishError caused by Kafka's error, so the ingest ends saying Kafka does not answer."""
        deadline = time.monotonic() + timeout_s
        while True:
            remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
            try:
                return cls(settings, bootstrap_timeout_ms=remaining_ms)
            except KafkaError as exc:
                if unreachable_server(exc, settings) is None:
                    raise  # Kafka answered and refused (a bad configuration): waiting would not help
                if time.monotonic() + CONNECT_PAUSE_S >= deadline:
                    raise PublishError(f"no Kafka broker answered within {timeout_s:g} s: {exc}") from exc
            time.sleep(CONNECT_PAUSE_S)

    def _on_error(self, exc: BaseException) -> None:
        self._failures.append(exc)

    def send(self, topic: str, key: str, value: bytes | None, headers: dict[str, str] | None = None) -> None:
        header_list = [(k, v.encode()) for k, v in (headers or {}).items()]
        try:
            future = self._producer.send(topic, key=key.encode(), value=value, headers=header_list)
        except KafkaError as exc:  # no metadata (Kafka down) within max_block_ms, or a full buffer
            raise PublishError(f"send failed: {exc}") from exc
        future.add_errback(self._on_error)

    def send_json(self, topic: str, key: str, value: Any) -> None:
        self.send(topic, key, encode(value))

    def checkpoint(self, timeout_s: float = CHECKPOINT_TIMEOUT_S) -> None:
        """Block until everything sent so far is acknowledged; raise if anything failed or timeout_s passed."""
        try:
            self._producer.flush(timeout=timeout_s)
        except KafkaError as exc:
            raise PublishError(f"flush failed: {exc}") from exc
        if self._failures:
            first = self._failures[0]
            self._failures.clear()
            raise PublishError(f"Kafka rejected a message: {first!r}") from first

    def close(self) -> None:
        try:
            self._producer.close(timeout=CLOSE_TIMEOUT_S)
        except KafkaError as exc:
            # kafka-python's close() flushes first and raises while anything is unacknowledged. That happens after a
            # failed checkpoint, whose error is the one to report: nothing since the last checkpoint counted as
            # published anyway.
            log.warning("Kafka producer closed with messages unacknowledged (%s)", exc)
