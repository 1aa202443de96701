"""Creates the topics of the public contract with their partitioning and retention."""

from __future__ import annotations

import time

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from runtime.settings import Settings
from schemas.topics import ENTITIES, indexer_group_id

# Entity topics are the replay source: partitions to scale consumers, compaction keeps the latest record per id.
ENTITY_PARTITIONS = 8
COMPACT = {"cleanup.policy": "compact"}
# A month's dump rewrites ~3% of an entity, far below the default 50% dirty ratio that starts the log cleaner, so
# superseded versions would pile up for a year: a week's lag at most, on segments small enough to close and clean.
ENTITY_CONFIGS = {
    **COMPACT,
    "segment.bytes": str(256 * 1024 * 1024),
    "max.compaction.lag.ms": str(7 * 24 * 3600 * 1000),
}


def topic_specs(settings: Settings) -> list[NewTopic]:
    t = settings.topics
    specs = [NewTopic(t.entity(e), ENTITY_PARTITIONS, 1, topic_configs=ENTITY_CONFIGS) for e in ENTITIES]
    specs += [
        NewTopic(t.dumps, 1, 1),
        NewTopic(t.dlq, 1, 1),
        NewTopic(t.playlist_requests, 4, 1),
        # Compacted: a restarted web process rebuilds the latest snapshot of every job from it.
        NewTopic(t.playlist_status, 4, 1, topic_configs=COMPACT),
    ]
    return specs


def ensure_topics(settings: Settings) -> list[str]:
    """Create missing topics; returns the names created now."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="dataget-admin")
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in topic_specs(settings) if spec.name not in existing]
        if missing:
            try:
                admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process created them between list and create
            wait_until_served(settings, {spec.name: spec.num_partitions for spec in missing})
        return [spec.name for spec in missing]
    finally:
        admin.close()


def topic_identity(settings: Settings, topic: str) -> str:
    """Which Kafka cluster and which incarnation of `topic` (its topic id changes when it is recreated)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="dataget-admin")
    try:
        cluster = admin.describe_cluster()["cluster_id"]
        [described] = admin.describe_topics([topic])
        return f"{cluster}/{described['topic_id']}"
    finally:
        admin.close()


def drop_topics(settings: Settings) -> None:
    """Delete the topics of these settings' prefix and those faust made for their index workers (benchmarks and
    tests with a throwaway prefix clean up with it: thousands of leftover topics slow a broker down)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="dataget-admin")
    workers = f"{indexer_group_id(settings.namespace)}-"  # faust's own topics, for live and replay workers alike
    try:
        existing = set(admin.list_topics())
        names = [spec.name for spec in topic_specs(settings) if spec.name in existing]
        names += sorted(name for name in existing if name.startswith(workers))
        if names:
            admin.delete_topics(names)
    finally:
        admin.close()


def wait_until_served(settings: Settings, partitions: dict[str, int], timeout: float = 30.0) -> None:
    """Block until the broker answers offset requests for every partition of new topics.

    Right after CreateTopics the metadata already names a leader that still answers NotLeaderForPartition;
    aiokafka consumers that start in that window can stall until their next metadata refresh (minutes).
    """
    wanted = [TopicPartition(topic, p) for topic, count in partitions.items() for p in range(count)]
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=5000,
                             enable_auto_commit=False, allow_auto_create_topics=False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                consumer.end_offsets(wanted)
                return
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        consumer.close()
