"""Sampled videos' titles from the stored records: which records, which titles, and a MongoDB that fails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pymongo.errors
import pytest

from schemas.query import SampleVideo
from web.video_titles import TITLES_REST_S, VideoTitles, masters_to_read, releases_to_read, sample_titles


def video(vid: str, title: str) -> dict:
    return {"src": f"https://www.youtube.com/watch?v={vid}", "youtube_id": vid, "title": title}


RELEASES = {
    1: {"id": 1, "master_id": 10, "videos": [video("aaaaaaaaaaa", " Release song ")]},
    2: {"id": 2, "master_id": None, "videos": [video("ccccccccccc", "Other song")]},
}
MASTERS = {10: {"id": 10, "videos": [video("bbbbbbbbbbb", "Master song"), video("aaaaaaaaaaa", "Master's name")]}}
SAMPLE = [
    SampleVideo("aaaaaaaaaaa", 1, ""),  # its release lists it
    SampleVideo("bbbbbbbbbbb", 1, ""),  # unique=master: the release's master lists it
    SampleVideo("ddddddddddd", 3, ""),  # release 3 is not stored
    SampleVideo("eeeeeeeeeee", 2, ""),  # release 2 does not list it and has no master
    SampleVideo("ccccccccccc", 2, "Kept"),  # an index built before keeps titles
    SampleVideo("fffffffffff", 0, ""),  # no release named
]


def test_records_to_read_are_those_of_untitled_videos():
    assert releases_to_read(SAMPLE) == [1, 2, 3]
    # Release 1 does not list bbbbbbbbbbb: its master is read; release 2 has none.
    assert masters_to_read(SAMPLE, RELEASES) == [10]
    assert masters_to_read(SAMPLE[:1], RELEASES) == []


def test_titles_from_the_release_else_its_master():
    assert sample_titles(SAMPLE, RELEASES, MASTERS) == {"aaaaaaaaaaa": "Release song", "bbbbbbbbbbb": "Master song"}
    assert sample_titles(SAMPLE, {}, MASTERS) == {}


class Lookup:
    def __init__(self, answer: dict[str, str] | BaseException) -> None:
        self.answer = answer
        self.calls: list[list[str]] = []

    async def __call__(self, sample: Sequence[SampleVideo]) -> dict[str, str]:
        self.calls.append([v.video_id for v in sample])
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


async def test_fill_sets_titles_found_and_keeps_the_rest():
    lookup = Lookup({"aaaaaaaaaaa": "Release song"})
    filled = await VideoTitles(lookup).fill(SAMPLE)
    assert [v.title for v in filled] == ["Release song", "", "", "", "Kept", ""]
    assert [(v.video_id, v.release_id) for v in filled] == [(v.video_id, v.release_id) for v in SAMPLE]
    # Nothing to look up: no lookup at all.
    titled = [SampleVideo("ccccccccccc", 2, "Kept")]
    assert await VideoTitles(lookup).fill(titled) == titled and len(lookup.calls) == 1


async def test_a_failing_mongodb_gives_no_titles_one_warning_and_a_rest(caplog):
    now = [0.0]
    lookup = Lookup(pymongo.errors.ServerSelectionTimeoutError("127.0.0.1:27018: connection refused"))
    titles = VideoTitles(lookup, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="web.video_titles"):
        assert await titles.fill(SAMPLE) == SAMPLE
        now[0] += TITLES_REST_S / 2
        assert await titles.fill(SAMPLE) == SAMPLE  # resting: not asked
        assert len(lookup.calls) == 1
        now[0] += TITLES_REST_S
        assert await titles.fill(SAMPLE) == SAMPLE  # asked again, still failing: no second warning
        assert len(lookup.calls) == 2
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "connection refused" in warnings[0].getMessage()
        lookup.answer = {"aaaaaaaaaaa": "Release song"}
        now[0] += TITLES_REST_S
        assert (await titles.fill(SAMPLE))[0].title == "Release song"
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == ["video titles available again"]


async def test_a_hung_mongodb_is_given_up_on(monkeypatch):
    monkeypatch.setattr("web.video_titles.TITLES_WAIT_S", 0.05)
    monkeypatch.setattr("web.video_titles.TITLES_WAIT_PER_VIDEO_S", 0.0)

    async def hang(sample: Sequence[SampleVideo]) -> dict[str, str]:
        await asyncio.sleep(60)
        return {}

    assert await VideoTitles(hang).fill(SAMPLE) == SAMPLE


async def test_other_errors_are_not_hidden():
    with pytest.raises(KeyError):
        await VideoTitles(Lookup(KeyError("bug"))).fill(SAMPLE)
