"""Publisher: every wait on Kafka is bounded, and every Kafka failure is a PublishError naming its cause."""

from __future__ import annotations

from typing import Any

import kafka.errors
import pytest

from producers import publisher as publisher_module
from producers.publisher import CHECKPOINT_TIMEOUT_S, Publisher, PublishError
from runtime.settings import Settings


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
