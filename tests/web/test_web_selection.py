from web_fakes import FakeIndex, catalog

from schemas.query import MAX_LIMIT, FacetQuery
from web.selection import collect_videos


async def test_small_selections_take_one_draw():
    index = FakeIndex()
    videos = await collect_videos(index, FacetQuery(limit=30, seed=1))
    assert len({v.video_id for v in videos}) == len(videos) == 30
    assert len(index.queries) == 1
    # Each video keeps the title and release the index named for it.
    assert all(v.title == f"Title of {v.video_id}" and v.video_id.startswith(f"vid{v.release_id:03d}") for v in videos)


async def test_big_selections_draw_past_the_sample_cap_reproducibly():
    index = FakeIndex(releases=catalog(2000))  # 4000 videos
    query = FacetQuery(limit=1500, seed=11)
    videos = await collect_videos(index, query)
    assert len({v.video_id for v in videos}) == len(videos) == 1500
    assert all(q.limit <= MAX_LIMIT for q in index.queries)
    assert videos == await collect_videos(FakeIndex(releases=catalog(2000)), query)


async def test_asking_for_more_than_exists_returns_every_video():
    videos = await collect_videos(FakeIndex(releases=catalog(300)), FacetQuery(limit=5000, seed=2))
    assert {v.video_id for v in videos} == {f"vid{i:03d}{s}" for i in range(1, 301) for s in "ab"}
