"""Waiting for consumers to catch up: a Kafka that stops answering for a while is waited for, one that stays away
is not, and other errors are not retried (group_lag, which asks Kafka, replaced by a script of answers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from kafka.errors import KafkaTimeoutError

from runtime import lag
from runtime.lag import TopicLag, wait_for_lag_zero
from runtime.settings import Settings

SETTINGS = Settings(kafka_bootstrap="127.0.0.1:1")
DOWN = KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:1")


def scripted(answers: Iterator[int | Exception]) -> Callable[..., list[TopicLag]]:
    """A group_lag answering each call with the next lag, or raising the next error."""

    def group_lag(*_args: object) -> list[TopicLag]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return [TopicLag("t", 10, 10 - answer, answer)]

    return group_lag


def test_a_kafka_restart_while_waiting_is_ridden_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lag, "group_lag", scripted(iter([500, DOWN, DOWN, 200, 0])))
    seen: list[int] = []
    wait_for_lag_zero(SETTINGS, "g", ["t"], on_progress=seen.append, poll=0)
    assert seen == [500, 200, 0]


def test_a_kafka_that_stays_away_fails_the_wait_with_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def down(*_args: object) -> list[TopicLag]:
        calls.append(1)
        raise DOWN

    monkeypatch.setattr(lag, "group_lag", down)
    with pytest.raises(KafkaTimeoutError):
        wait_for_lag_zero(SETTINGS, "g", ["t"], poll=0.01, outage=0.05)
    assert len(calls) > 1  # retried before giving up


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lag, "group_lag", scripted(iter([ValueError("not about a server")])))
    with pytest.raises(ValueError):
        wait_for_lag_zero(SETTINGS, "g", ["t"], poll=0)
