"""Kafka topic names: the public contract shared by producers, processors, the site and other teams."""

from __future__ import annotations

from dataclasses import dataclass

ENTITIES = ("releases", "masters", "artists", "labels")


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
