"""Consumer-group progress: end offsets, committed offsets and lag per topic (for --wait and `status`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import CoordinatorNotAvailableError

from runtime.settings import Settings

# `dataget status` says Kafka does not answer after this long, not kafka-python's default 30 s.
BOOTSTRAP_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class TopicLag:
    topic: str
    end: int
    committed: int
    lag: int


def group_lag(settings: Settings, group: str, topics: Sequence[str]) -> list[TopicLag]:
    # Asking for a topic that doesn't exist yet must not create it with broker defaults.
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                             allow_auto_create_topics=False, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
    try:
        committed = _committed_offsets(admin, group)
        result = []
        for topic in topics:
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
            if not partitions:
                result.append(TopicLag(topic, 0, 0, 0))
                continue
            ends = consumer.end_offsets(partitions)
            begins = consumer.beginning_offsets(partitions)
            end_total = done_total = lag_total = 0
            for tp in partitions:
                meta = committed.get(tp)
                offset = meta.offset if meta is not None else None
                # Without a commit the group starts at the earliest retained offset (compaction may have moved it).
                position = offset if offset is not None and offset >= 0 else begins[tp]
                end_total += ends[tp]
                done_total += position
                lag_total += max(0, ends[tp] - position)
            result.append(TopicLag(topic, end_total, done_total, lag_total))
        return result
    finally:
        consumer.close()
        admin.close()


def _committed_offsets(
    admin: KafkaAdminClient, group: str, attempts: int = 20
) -> dict[TopicPartition, OffsetAndMetadata]:
    # The group coordinator is unavailable for a moment while __consumer_offsets is first created.
    for attempt in range(attempts):
        try:
            offsets: dict[TopicPartition, OffsetAndMetadata] = admin.list_group_offsets(group).get(group, {})
            return offsets
        except CoordinatorNotAvailableError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    return {}


def wait_for_lag_zero(
    settings: Settings,
    group: str,
    topics: Sequence[str],
    *,
    timeout: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    poll: float = 1.0,
) -> None:
    """Return once the group has consumed everything in the topics; TimeoutError after timeout seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        lag = sum(t.lag for t in group_lag(settings, group, topics))
        if on_progress:
            on_progress(lag)
        if lag == 0:
            return
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"group {group} still has {lag} messages to consume on {', '.join(topics)}")
        time.sleep(poll)
