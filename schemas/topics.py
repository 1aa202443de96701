"""Kafka topic names: the public contract shared by producers, processors, the site and other teams."""

from __future__ import annotations

from dataclasses import dataclass

ENTITIES = ("releases", "masters", "artists", "labels")
# Every record message carries the dump version (YYYYMMDD) it was published from, tombstones included.
DUMP_VERSION_HEADER = "dump_version"


@dataclass(frozen=True)
class Topics:
    # A prefix isolates test runs that share one broker; production leaves it empty.
    prefix: str = ""

    def entity(self, entity: str) -> str:
        if entity not in ENTITIES:
            raise ValueError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        return f"{self.prefix}discogs.{entity}"

    @property
    def dumps(self) -> str:
        return f"{self.prefix}discogs.dumps"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}discogs.dlq"

    @property
    def playlist_requests(self) -> str:
        return f"{self.prefix}playlist.requests"

    @property
    def playlist_status(self) -> str:
        return f"{self.prefix}playlist.status"


def indexer_group_id(namespace: str) -> str:
    """The consumer group (faust app id) of the live index workers of a deployment namespace."""
    return f"{namespace}-indexer"


def replay_group_id(namespace: str, index_namespace: str) -> str:
    """The consumer group of a worker replaying every topic into one index version (`dataget reindex`)."""
    return f"{indexer_group_id(namespace)}-{index_namespace.replace(':', '-')}"


def youtube_group_id(namespace: str) -> str:
    """The consumer group of the YouTube workers (one group shares the playlist requests between them)."""
    return f"{namespace}-youtube"
