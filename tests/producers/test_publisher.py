"""Publisher: every wait on Kafka is bounded, and every Kafka failure is a PublishError naming its cause."""

from __future__ import annotations

from typing import Any

import kafka.errors
import pytest

from producers import publisher as publisher_module
from producers.publisher import CHECKPOINT_TIMEOUT_S, Publisher, PublishError
from runtime.settings import Settings
from runtime.unreachable import unreachable_server


class DeadBroker:
    """A KafkaProducer whose broker stopped answering: sends find no metadata, flushes time out."""

    def __init__(self, **config: Any) -> None:
        self.flush_timeouts: list[float | None] = []
        self.close_timeouts: list[float | None] = []

    def send(self, topic: str, **kwargs: Any) -> None:
        raise kafka.errors.KafkaTimeoutError("Failed to update metadata after 60.0 secs.")

    def flush(self, timeout: float | None = None) -> None:
        self.flush_timeouts.append(timeout)
        raise kafka.errors.KafkaTimeoutError("Timeout waiting for future")

    def close(self, timeout: float | None = None) -> None:
        self.close_timeouts.append(timeout)


@pytest.fixture
def dead(monkeypatch: pytest.MonkeyPatch) -> tuple[Publisher, DeadBroker]:
    monkeypatch.setattr(publisher_module, "KafkaProducer", DeadBroker)
    publisher = Publisher(Settings())
    return publisher, publisher._producer  # type: ignore[return-value]


def test_a_checkpoint_waits_a_bounded_time_and_fails_with_kafkas_reason(dead: tuple[Publisher, DeadBroker]) -> None:
    publisher, broker = dead
    with pytest.raises(PublishError, match="Timeout waiting for future") as failed:
        publisher.checkpoint()
    assert isinstance(failed.value.__cause__, kafka.errors.KafkaTimeoutError)
    assert broker.flush_timeouts == [CHECKPOINT_TIMEOUT_S]
    with pytest.raises(PublishError):
        publisher.checkpoint(timeout_s=5)
    assert broker.flush_timeouts[-1] == 5


def test_a_send_without_metadata_is_a_publish_error(dead: tuple[Publisher, DeadBroker]) -> None:
    publisher, _ = dead
    with pytest.raises(PublishError, match="metadata") as failed:
        publisher.send("discogs.releases", "1", b"{}")
    assert isinstance(failed.value.__cause__, kafka.errors.KafkaTimeoutError)


def test_close_does_not_wait_forever_nor_hide_the_error_before_it(dead: tuple[Publisher, DeadBroker],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    publisher, broker = dead

    def close(timeout: float | None = None) -> None:  # kafka-python flushes in close() and raises on a timeout
        broker.close_timeouts.append(timeout)
        raise kafka.errors.KafkaTimeoutError("Timeout waiting for future")

    monkeypatch.setattr(broker, "close", close)
    publisher.close()
    assert broker.close_timeouts and broker.close_timeouts[0] is not None


class RestartingBroker(DeadBroker):
    """A KafkaProducer whose broker answers from the `down`-th attempt to create it on (0: never)."""

    attempts: list[dict[str, Any]] = []
    down = 0

    def __init__(self, **config: Any) -> None:
        RestartingBroker.attempts.append(config)
        if self.down == 0 or len(self.attempts) < self.down:
            raise kafka.errors.KafkaTimeoutError(f"Unable to bootstrap from {config['bootstrap_servers']}")
        super().__init__(**config)


@pytest.fixture
def restarting(monkeypatch: pytest.MonkeyPatch) -> type[RestartingBroker]:
    monkeypatch.setattr(publisher_module, "KafkaProducer", RestartingBroker)
    monkeypatch.setattr(publisher_module, "CONNECT_PAUSE_S", 0.0)
    monkeypatch.setattr(RestartingBroker, "attempts", [])
    return RestartingBroker


def test_connect_waits_out_a_broker_that_fails_to_answer_a_few_times(restarting: type[RestartingBroker],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(restarting, "down", 4)
    publisher = Publisher.connect(Settings(), timeout_s=60)
    assert isinstance(publisher._producer, RestartingBroker) and len(restarting.attempts) == 4
    # Each attempt's own bootstrap wait ends by the deadline, so the bound holds however kafka-python retries.
    assert all(0 < attempt["bootstrap_timeout_ms"] <= 60_000 for attempt in restarting.attempts)


def test_connect_gives_up_after_the_bound_naming_kafka(restarting: type[RestartingBroker]) -> None:
    settings = Settings(kafka_bootstrap="k1:9092")
    with pytest.raises(PublishError, match="no Kafka broker answered within 0.2 s") as failed:
        Publisher.connect(settings, timeout_s=0.2)
    assert restarting.attempts
    assert unreachable_server(failed.value, settings) == "Kafka at k1:9092"


def test_connect_does_not_wait_for_a_broker_that_answered_with_a_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts = []

    def refusing(**config: Any) -> None:
        attempts.append(config)
        raise kafka.errors.UnsupportedVersionError("zstd needs Kafka 2.1")

    monkeypatch.setattr(publisher_module, "KafkaProducer", refusing)
    with pytest.raises(kafka.errors.UnsupportedVersionError):
        Publisher.connect(Settings(), timeout_s=60)
    assert len(attempts) == 1
