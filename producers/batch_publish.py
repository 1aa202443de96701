"""Publish one batch of parsed records: new or changed ones to the entity topic, bad ones to the dead letters.

The same code runs in the ingest process and in parallel parser processes; the caller records the returned
hashes once the batch is acknowledged, which is what makes a crash re-publish rather than skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from producers.publisher import Publisher
from producers.record_hashes import RecordHashes, content_hash
from producers.records import RecordItem
from runtime.settings import Settings
from schemas import messages
from schemas.topics import DUMP_VERSION_HEADER


@dataclass
class BatchOutcome:
    digests: list[tuple[int, bytes]] = field(default_factory=list)
    records: int = 0
    published: int = 0
    dlq: int = 0


@dataclass(frozen=True)
class BatchTarget:
    settings: Settings
    entity: str
    dump_version: str

    @property
    def topic(self) -> str:
        return self.settings.topics.entity(self.entity)


def publish_batch(
    target: BatchTarget, items: Sequence[RecordItem], publisher: Publisher, hashes: RecordHashes
) -> BatchOutcome:
    """Send the batch and wait until Kafka acknowledged all of it."""
    outcome = BatchOutcome(records=len(items))
    values: list[tuple[int, bytes]] = []
    for item in items:
        if item.error is not None:
            outcome.dlq += 1
            letter = messages.dead_letter("producer", target.entity, item.record_id, item.error.reason,
                                          item.excerpt or "", target.dump_version)
            publisher.send_json(target.settings.topics.dlq,
                                messages.dead_letter_key(target.entity, item.record_id), letter)
            continue
        assert item.record_id is not None and item.value is not None  # item_of sets both when there is no error
        values.append((item.record_id, item.value))
        outcome.digests.append((item.record_id, content_hash(item.value)))
    headers = {DUMP_VERSION_HEADER: target.dump_version}
    for i in hashes.changed(target.topic, outcome.digests):
        record_id, value = values[i]
        publisher.send(target.topic, str(record_id), value, headers)
        outcome.published += 1
    publisher.checkpoint()
    return outcome
