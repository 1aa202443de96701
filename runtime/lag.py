"""Consumer-group progress: end offsets, committed offsets and lag per topic (for --wait and `status`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import CoordinatorNotAvailableError

from runtime.settings import Settings
from runtime.unreachable import unreachable_server

# `dataget status` says Kafka does not answer after this long, not kafka-python's default 30 s.
BOOTSTRAP_TIMEOUT_MS = 10_000
# Seconds a wait for consumers goes on while Kafka does not answer: about what `dataget ingest` waits for it to take
# records (its producer's 120 s delivery timeout and more), so a restart is ridden out and a dead Kafka is not.
KAFKA_OUTAGE_S = 180.0
log = logging.getLogger(__name__)


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
    admin = None
    try:  # the consumer is closed also when Kafka stops answering before the admin client is made
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS)
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
        if admin is not None:
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
    outage: float = KAFKA_OUTAGE_S,
) -> None:
    """Return once the group has consumed everything in the topics; TimeoutError after timeout seconds.

    A Kafka that stops answering meanwhile (restarted, say) is waited for, as the consumers wait for it; once it
    has not answered for `outage` seconds its error is raised.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    down_since: float | None = None
    while True:
        try:
            lags = group_lag(settings, group, topics)
        except Exception as exc:
            server = unreachable_server(exc, settings)
            now = time.monotonic()
            down_since = now if down_since is None else down_since
            if server is None or now - down_since > outage or (deadline is not None and now > deadline):
                raise
            log.warning("%s does not answer; waiting for it up to %.0f s (%s)", server, outage, exc)
            time.sleep(poll)
            continue
        down_since = None
        lag = sum(t.lag for t in lags)
        if on_progress:
            on_progress(lag)
        if lag == 0:
            return
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"group {group} still has {lag} messages to consume on {', '.join(topics)}")
        time.sleep(poll)
