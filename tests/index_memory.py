"""For the memory-safety tests: a Redis of the stack's own making with a small maxmemory, releases to fill it, and
their counts worked out by brute force."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from kafka import KafkaProducer

from dataget.stack import build_dir
from dataget.stack.private_redis import private_redis
from runtime.settings import Settings, settings_from_env
from schemas.query import FacetQuery
from sinks.facets import release_facets, release_videos

SMALL_MAXMEMORY = 8 * 1024**2
GENRES = ("Electronic", "Rock", "Jazz", "Funk / Soul", "Pop")
STYLES = ("House", "Techno", "Punk", "Ambient", "Soul", "Dub")


@contextmanager
def dedicated_redis(directory: Path, maxmemory: int = SMALL_MAXMEMORY) -> Iterator[str]:
    """A redis-server started as the local stack starts its own (maxmemory, noeviction) on a free port; yields its
    URL and stops it on leaving."""
    with private_redis(directory, build_dir(settings_from_env()), maxmemory) as (url, _):
        yield url


def release(rid: int) -> dict[str, Any]:
    """A release with 1-3 videos of its own and a few facet values, all depending on its id alone; its artist is its
    own ("Artist {id}"), so a query can tell which releases are indexed."""
    return {
        "id": rid, "title": f"Title {rid}", "status": "Accepted",
        "genres": [GENRES[rid % 5]], "styles": [STYLES[rid % 6], STYLES[rid % 4]],
        "released": f"{1960 + rid % 60}", "country": ("UK", "US", "Germany", "Japan")[rid % 4],
        "artists": [{"id": rid, "name": f"Artist {rid}"}],
        "labels": [{"id": rid % 97 + 1, "name": f"Label {rid % 97}", "catno": "CAT 1"}],
        "formats": [{"name": ("Vinyl", "CD", "Cassette")[rid % 3], "qty": "1"}],
        "master_id": None,
        "videos": [{"src": f"https://www.youtube.com/watch?v=v{rid:07d}{n:03d}", "youtube_id": f"v{rid:07d}{n:03d}",
                    "title": f"Video {rid} {n}"} for n in range(1 + rid % 3)],
    }


def brute_count(releases: list[dict[str, Any]], q: FacetQuery) -> tuple[int, int]:
    """(releases, distinct videos) matching q, worked out record by record."""
    matched = [r for r in releases
               if all(release_facets(r)[f] & set(values) for f, values in q.facets.items()) and release_videos(r)]
    return len(matched), len({v for r in matched for v, _ in release_videos(r)})


def publish_releases(settings: Settings, ids: range) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=20)
    try:
        for rid in ids:
            producer.send(settings.topics.entity("releases"), key=str(rid).encode(),
                          value=orjson.dumps(release(rid)), headers=[("dump_version", b"20260301")])
        producer.flush()
    finally:
        producer.close()
