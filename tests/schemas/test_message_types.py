"""The message types mypy checks say what the hand-written JSON Schemas of their topics say."""

from __future__ import annotations

from typing import get_args

import pytest

from schemas.generate import load_schema
from schemas.messages import DeadLetterMessage, DeadLetterSource, DumpEvent
from schemas.playlist_jobs import ACTIVE_STATES, PRIVACIES, JobState, PlaylistJob, StatusSnapshot

MESSAGE_TYPES = {
    "discogs.dumps": DumpEvent,
    "discogs.dlq": DeadLetterMessage,
    "playlist.requests": PlaylistJob,
    "playlist.status": StatusSnapshot,
}


@pytest.mark.parametrize("topic", sorted(MESSAGE_TYPES))
def test_fields_and_required_fields_match_the_schema(topic):
    schema = load_schema(topic)
    message_type = MESSAGE_TYPES[topic]
    assert set(message_type.__annotations__) == set(schema["properties"])
    assert message_type.__required_keys__ == set(schema["required"])


def test_literals_match_the_schema_enums():
    assert set(get_args(JobState)) == set(load_schema("playlist.status")["properties"]["state"]["enum"])
    assert set(ACTIVE_STATES) < set(get_args(JobState))
    assert set(PRIVACIES) == set(load_schema("playlist.requests")["properties"]["privacy"]["enum"])
    assert set(get_args(DeadLetterSource)) == set(load_schema("discogs.dlq")["properties"]["source"]["enum"])
    assert set(get_args(DumpEvent.__annotations__["event"])) == set(
        load_schema("discogs.dumps")["properties"]["event"]["enum"])
