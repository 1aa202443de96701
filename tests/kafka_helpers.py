"""Reading what was published, for assertions in integration tests."""

from __future__ import annotations

from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from runtime.settings import Settings


def read_topic(settings: Settings, topic: str, idle_ms: int = 2500) -> list[ConsumerRecord]:
    """Every message currently in the topic, from the beginning (no consumer group, nothing committed)."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=settings.kafka_bootstrap, group_id=None, auto_offset_reset="earliest",
        enable_auto_commit=False, consumer_timeout_ms=idle_ms,
    )
    try:
        return list(consumer)
    finally:
        consumer.close()
