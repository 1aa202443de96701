"""The export route of create_app with its real services, over a facet index built in the real Redis."""

import csv
import io

import pytest
from redis.asyncio import Redis
from web_fakes import web_settings

from sinks.facet_index import FacetIndex
from sinks.index_versions import version_namespace
from web.app import create_app

pytestmark = pytest.mark.stack


def release(rid: int) -> dict:
    genre = "Jazz" if rid % 3 == 0 else "Rock"
    videos = [{"src": "", "youtube_id": f"v{rid:06d}{k}abc", "title": f"Song {rid}-{k}"} for k in (1, 2)]
    return {"id": rid, "genres": [genre], "released": str(1960 + rid % 30), "videos": videos}


RELEASES = {rid: release(rid) for rid in range(1, 601)}  # 200 Jazz (400 videos), 1,200 videos in all


def brute_force(genre: str | None = None) -> dict[str, tuple[int, str]]:
    return {v["youtube_id"]: (rid, v["title"]) for rid, r in RELEASES.items()
            if genre is None or genre in r["genres"] for v in r["videos"]}


@pytest.fixture
async def client(isolated_settings, aiohttp_client):
    base = web_settings()
    settings = isolated_settings.with_(session_secret=base.session_secret, token_key=base.token_key)
    redis = Redis.from_url(settings.redis_url)
    await FacetIndex(redis, version_namespace(settings.namespace, 0)).apply_releases(list(RELEASES.items()))
    await redis.aclose()
    return await aiohttp_client(create_app(settings))


async def test_exports_hold_every_video_of_the_selection_once(client):
    for genre, query in (("Jazz", "genre=Jazz&"), (None, "")):
        resp = await client.get(f"/api/v1/export?{query}format=json&limit=5000&seed=3")
        assert resp.status == 200
        videos = await resp.json()
        assert len(videos) == len(brute_force(genre))
        assert {v["video_id"]: (v["release_id"], v["title"]) for v in videos} == brute_force(genre)
        again = await client.get(f"/api/v1/export?{query}format=json&limit=5000&seed=3")
        assert await again.json() == videos


async def test_formats_limits_and_bad_input(client):
    listed = [v["video_id"] for v in await (await client.get(
        "/api/v1/export?genre=Rock&decade=1970&format=json&limit=75&seed=1")).json()]
    assert len(set(listed)) == 75 and set(listed) <= set(brute_force("Rock"))

    m3u = await client.get("/api/v1/export?genre=Rock&decade=1970&format=m3u&limit=75&seed=1")
    assert m3u.headers["Content-Disposition"] == 'attachment; filename="dataget-rock-1970-seed1.m3u"'
    lines = (await m3u.text()).splitlines()
    assert lines[0] == "#EXTM3U" and lines[2::2] == [f"https://www.youtube.com/watch?v={v}" for v in listed]
    assert lines[1::2] == [f"#EXTINF:-1,{brute_force()[v][1]}" for v in listed]

    table = list(csv.DictReader(io.StringIO(await (await client.get(
        "/api/v1/export?genre=Rock&decade=1970&format=csv&limit=75&seed=1")).text())))
    assert [(r["video_id"], int(r["release_id"])) for r in table] == [(v, brute_force()[v][0]) for v in listed]

    links = await (await client.get("/api/v1/export?genre=Jazz&format=links&limit=5000&seed=3")).json()
    assert links["videos"] == 400 and len(links["links"]) == 8

    bad = await client.get("/api/v1/export?genre=Jazz&format=wav")
    assert bad.status == 400 and "format: give exactly one of m3u, json, csv, links" in (await bad.json())["error"]
    assert (await client.get("/api/v1/export?format=csv&limit=5001")).status == 400
