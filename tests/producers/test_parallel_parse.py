"""What a parser process' failure becomes in the parent."""

from __future__ import annotations

import queue
from pathlib import Path

import pytest

from dataget.stack.process import free_port
from producers.batch_publish import BatchTarget
from producers.dumpfile import DumpFileError
from producers.parallel_parse import BlockFailure, _drain, parallel_outcomes
from producers.publisher import PublishError
from producers.record_hashes import RecordHashes
from runtime.settings import Settings
from runtime.unreachable import ServerUnreachable, unreachable_message, unreachable_server


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


class Exited:
    """A parser process that has exited."""

    exitcode = 0

    def is_alive(self) -> bool:
        return False


class LateResults(queue.Queue):
    """Results whose last item reaches the pipe only after the parent first found it empty."""

    def __init__(self, late: object) -> None:
        super().__init__()
        self._late: object | None = late

    def get_nowait(self) -> object:
        if self._late is not None:
            self.put(self._late)
            self._late = None
            raise queue.Empty
        return super().get_nowait()


def test_a_parser_that_reported_its_failure_and_exited_is_not_called_dead() -> None:
    failure = BlockFailure("publish", "no Kafka broker answered within 150 s", "Kafka at k1:9092")
    with pytest.raises(PublishError) as raised:
        next(_drain(LateResults(failure), wait=False, workers=[Exited()]))  # type: ignore[arg-type, list-item]
    assert unreachable_server(raised.value, Settings()) == "Kafka at k1:9092"
    with pytest.raises(PublishError, match="a parser process died"):
        next(_drain(queue.Queue(), wait=False, workers=[Exited()]))  # type: ignore[arg-type, list-item]


def test_a_parallel_ingest_whose_kafka_never_answers_fails_naming_kafka(fixtures_dir: Path, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    settings = Settings(kafka_bootstrap=f"127.0.0.1:{port}")
    RecordHashes(tmp_path / "hashes.sqlite").close()
    target = BatchTarget(settings, "releases", "20200806")
    path = fixtures_dir / "releases-sample-philipmat-20200806.xml.gz"
    with pytest.raises(PublishError) as raised:
        list(parallel_outcomes(path, target, tmp_path / "hashes.sqlite", jobs=2, connect_timeout_s=2))
    message = unreachable_message(raised.value, settings)
    assert message is not None and message.startswith(f"Kafka at 127.0.0.1:{port} does not answer")
    assert "no Kafka broker answered within 2 s" in message and "parser process died" not in message
