"""Titles of sampled videos, from the stored release and master records (the index keeps only YouTube ids).

The pure part says which records to read and what titles they give; VideoTitles asks the Store once per response
and lets the response go without titles ('') when MongoDB does not answer in time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace

import pymongo.errors

from schemas.query import SampleVideo
from schemas.records import Master, Release
from sinks.facets import release_videos

log = logging.getLogger(__name__)

# The Store's video_titles (web/ports.py).
Lookup = Callable[[Sequence[SampleVideo]], Awaitable[dict[str, str]]]

# What a response waits for its titles at most: a base, plus a little per video for exports of thousands (on
# FerretDB each release is one read of ~1 ms, web/site_store.py). Past it, or when MongoDB fails, titles are ''.
TITLES_WAIT_S = 2.0
TITLES_WAIT_PER_VIDEO_S = 0.002
# After a failed lookup, responses go without titles this long before MongoDB is asked again: an outage costs a
# wait once in a while, not on every request.
TITLES_REST_S = 30.0


def untitled(sample: Sequence[SampleVideo]) -> list[SampleVideo]:
    """The videos that need a title looked up: none yet (an index built before keeps titles) and a release named."""
    return [v for v in sample if not v.title and v.release_id]


def releases_to_read(sample: Sequence[SampleVideo]) -> list[int]:
    return sorted({v.release_id for v in untitled(sample)})


def _listed(record: Release | Master | None) -> dict[str, str]:
    return dict(release_videos(record)) if record else {}


def masters_to_read(sample: Sequence[SampleVideo], releases: Mapping[int, Release]) -> list[int]:
    """Masters of the releases that do not list their sampled video: with unique=master the video can be one its
    master lists."""
    wanted: set[int] = set()
    for v in untitled(sample):
        release = releases.get(v.release_id)
        master_id = release.get("master_id") if release else None
        if master_id and v.video_id not in _listed(release):
            wanted.add(master_id)
    return sorted(wanted)


def sample_titles(sample: Sequence[SampleVideo], releases: Mapping[int, Release],
                  masters: Mapping[int, Master]) -> dict[str, str]:
    """Video id -> title of the untitled videos, as their release's record lists them, else its master's; a video
    neither lists (or whose records are missing) is left out."""
    titles: dict[str, str] = {}
    for v in untitled(sample):
        release = releases.get(v.release_id)
        master = masters.get(release.get("master_id") or 0) if release else None
        for listed in (_listed(release), _listed(master)):
            if v.video_id in listed:
                titles[v.video_id] = listed[v.video_id]
                break
    return titles


class VideoTitles:
    """Fills in sampled videos' titles by the Store's lookup, one per response; one warning per MongoDB outage."""

    def __init__(self, lookup: Lookup, clock: Callable[[], float] = time.monotonic) -> None:
        self._lookup = lookup
        self._clock = clock
        self._resting_until = -float("inf")
        self._failing = False

    async def fill(self, sample: list[SampleVideo]) -> list[SampleVideo]:
        """The sample with the titles the records give; unchanged when none is missing, MongoDB is resting or fails."""
        if not untitled(sample) or self._clock() < self._resting_until:
            return sample
        try:
            async with asyncio.timeout(TITLES_WAIT_S + TITLES_WAIT_PER_VIDEO_S * len(sample)):
                titles = await self._lookup(sample)
        except (pymongo.errors.PyMongoError, TimeoutError) as exc:
            self._resting_until = self._clock() + TITLES_REST_S
            if not self._failing:
                log.warning("video titles unavailable: MongoDB did not answer (%s: %s); samples go without titles, "
                            "asked again every %.0f s", type(exc).__name__, exc, TITLES_REST_S)
            self._failing = True
            return sample
        if self._failing:
            log.info("video titles available again")
            self._failing = False
        return [replace(v, title=titles[v.video_id]) if v.video_id in titles else v for v in sample]
