"""The site's two Kafka ends: publishing playlist jobs and following the status topic."""

from __future__ import annotations

import logging

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from runtime.settings import Settings
from schemas.playlist_jobs import PlaylistJob
from web.status_hub import StatusHub

log = logging.getLogger(__name__)


class KafkaJobPublisher:
    """Publishes playlist jobs keyed by job id; `start` must run inside the event loop."""

    def __init__(self, settings: Settings) -> None:
        self._bootstrap = settings.kafka_bootstrap
        self._topic = settings.topics.playlist_requests
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, client_id="dataget-web"
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, job: PlaylistJob) -> None:
        if self._producer is None:
            raise RuntimeError("job publisher is not started")
        await self._producer.send_and_wait(self._topic, orjson.dumps(job), key=job["job_id"].encode())


def decode_snapshot(value: bytes | None) -> object:
    """A status message value; tombstones and garbage become None (the hub ignores them)."""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return None


def status_consumer(settings: Settings) -> AIOKafkaConsumer:
    """Reads the whole compacted status topic from the beginning, then live.

    No consumer group: every web process needs every job's status.
    """
    return AIOKafkaConsumer(
        settings.topics.playlist_status,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        client_id="dataget-web-status",
    )


async def feed_hub(consumer: AIOKafkaConsumer, hub: StatusHub) -> None:
    """Apply every status message to the hub (runs until cancelled)."""
    async for message in consumer:
        hub.apply(decode_snapshot(message.value))
