import pytest
from web_fakes import FakeIndex, catalog

from schemas.playlist_jobs import MAX_PLAYLIST_ITEMS
from schemas.query import MAX_LIMIT, FacetQuery
from web.playlist_jobs import (
    build_job,
    collect_video_ids,
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


async def test_small_playlists_take_one_draw():
    index = FakeIndex()
    ids = await collect_video_ids(index, FacetQuery(limit=30, seed=1))
    assert len(ids) == len(set(ids)) == 30
    assert len(index.queries) == 1


async def test_big_playlists_draw_past_the_sample_cap_reproducibly():
    index = FakeIndex(releases=catalog(2000))  # 4000 videos
    query = FacetQuery(limit=1500, seed=11)
    ids = await collect_video_ids(index, query)
    assert len(ids) == len(set(ids)) == 1500
    assert all(q.limit <= MAX_LIMIT for q in index.queries)
    assert ids == await collect_video_ids(FakeIndex(releases=catalog(2000)), query)


async def test_asking_for_more_than_exists_returns_every_video():
    ids = await collect_video_ids(FakeIndex(releases=catalog(300)), FacetQuery(limit=5000, seed=2))
    assert len(set(ids)) == 600
