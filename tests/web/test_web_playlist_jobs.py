import pytest

from schemas.playlist_jobs import MAX_PLAYLIST_ITEMS
from web.playlist_jobs import (
    build_job,
    initial_snapshot,
    parse_playlist_request,
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
