import pytest
from web_fakes import web_settings

from schemas.playlist_jobs import MAX_PLAYLIST_ITEMS
from web.playlist_jobs import (
    build_job,
    initial_snapshot,
    parse_playlist_request,
    refusal,
)
from web.query_params import QueryError


def test_defaults_and_generated_seed():
    request = parse_playlist_request({"title": "  Mix  "})
    assert (request.title, request.privacy, request.query.limit) == ("Mix", "private", 50)
    assert isinstance(request.query.seed, int)


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"title": "x" * 151},
        {"title": 3},
        {"title": "t", "max_videos": True},
        {"title": "t", "max_videos": 0},
        {"title": "t", "max_videos": MAX_PLAYLIST_ITEMS + 1},
        {"title": "t", "query": []},
    ],
)
def test_rejected_bodies(body):
    with pytest.raises(QueryError):
        parse_playlist_request(body)


def test_job_and_first_snapshot():
    request = parse_playlist_request({"title": "t", "query": {"genre": ["Jazz"], "seed": 3}})
    job = build_job("google:1", request, ["a", "b"])
    assert job["query"] == {"genre": ["Jazz"], "seed": 3}
    assert job["requested_at"].endswith("Z")
    first = initial_snapshot(job)
    assert (first["total"], first["state"], first["seq"]) == (2, "queued", 0)


def test_the_site_refuses_what_its_quota_cannot_serve_and_says_what_to_do():
    settings = web_settings(playlist_max_videos=199, playlist_max_active_jobs=2)
    small, big = (parse_playlist_request({"title": "t", "max_videos": n}) for n in (199, 200))
    assert refusal(small, active_jobs=1, settings=settings) is None
    too_big = refusal(big, active_jobs=0, settings=settings)
    assert too_big is not None and too_big.startswith("a playlist here holds at most 199 videos")
    assert "about 199 videos a day" in too_big and "needs no quota" in too_big
    busy = refusal(small, active_jobs=2, settings=settings)
    assert busy is not None and busy.startswith("you have 2 playlists still being built")
    assert "Wait until one is done" in busy
    generous = settings.with_(youtube_daily_units=1_000_000, playlist_max_videos=5000, playlist_max_active_jobs=9)
    assert refusal(big, active_jobs=8, settings=generous) is None
