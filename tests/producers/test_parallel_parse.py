"""What a parser process' failure becomes in the parent."""

from __future__ import annotations

import queue

import pytest

from producers.dumpfile import DumpFileError
from producers.parallel_parse import BlockFailure, _drain
from producers.publisher import PublishError
from runtime.settings import Settings
from runtime.unreachable import ServerUnreachable, unreachable_server


def failing(failure: BlockFailure) -> PublishError | DumpFileError:
    results: queue.Queue = queue.Queue()
    results.put(failure)
    with pytest.raises((PublishError, DumpFileError)) as raised:
        next(_drain(results, wait=True, workers=[]))  # type: ignore[arg-type]
    return raised.value


def test_a_kafka_that_did_not_answer_a_parser_is_reported_as_unreachable() -> None:
    error = failing(BlockFailure("publish", "Kafka rejected a message: KafkaTimeoutError(...)", "Kafka at k1:9092"))
    assert isinstance(error, PublishError) and isinstance(error.__cause__, ServerUnreachable)
    assert unreachable_server(error, Settings()) == "Kafka at k1:9092"


def test_other_failures_keep_their_kind() -> None:
    rejected = failing(BlockFailure("publish", "Kafka rejected a message: MessageSizeTooLargeError()"))
    assert isinstance(rejected, PublishError) and unreachable_server(rejected, Settings()) is None
    assert isinstance(failing(BlockFailure("dump", "truncated gzip")), DumpFileError)
