"""The export and query routes of create_app with their real services: a facet index built in the real Redis, the
releases stored in the real MongoDB (where the videos' titles come from)."""

import csv
import io

import pytest
from pymongo import MongoClient
from redis.asyncio import Redis
from web_fakes import web_settings

from sinks.facet_index import FacetIndex
from sinks.index_versions import version_namespace
from sinks.mongo_store import to_document
from sinks.record_packing import RecordPacker
from web.app import create_app

pytestmark = pytest.mark.stack


def release(rid: int) -> dict:
    genre = "Jazz" if rid % 3 == 0 else "Rock"
    videos = [{"src": "", "youtube_id": f"v{rid:06d}{k}abc", "title": f"Song {rid}-{k}"} for k in (1, 2)]
    return {"id": rid, "genres": [genre], "released": str(1960 + rid % 30), "videos": videos}


RELEASES = {rid: release(rid) for rid in range(1, 601)}  # 200 Jazz (400 videos), 1,200 videos in all
# Indexed but not stored: its videos have no title.
UNSTORED = 600


def brute_force(genre: str | None = None) -> dict[str, tuple[int, str]]:
    return {v["youtube_id"]: (rid, "" if rid == UNSTORED else v["title"]) for rid, r in RELEASES.items()
            if genre is None or genre in r["genres"] for v in r["videos"]}


@pytest.fixture
async def client(isolated_settings, aiohttp_client):
    base = web_settings()
    settings = isolated_settings.with_(session_secret=base.session_secret, token_key=base.token_key)
    redis = Redis.from_url(settings.redis_url)
    await FacetIndex(redis, version_namespace(settings.namespace, 0)).apply_releases(list(RELEASES.items()))
    await redis.aclose()
    packer = RecordPacker.load()
    with MongoClient(settings.mongo_url) as mongo:
        mongo[settings.mongo_db]["releases"].insert_many([to_document(rid, r, packer.pack("releases", r))
                                                         for rid, r in RELEASES.items() if rid != UNSTORED])
    return await aiohttp_client(create_app(settings))


async def test_a_query_sample_is_titled_from_the_stored_releases(client):
    body = await (await client.get("/api/v1/query?genre=Jazz&limit=50&seed=7")).json()
    assert len(body["sample"]) == 50
    assert {v["video_id"]: (v["release_id"], v["title"]) for v in body["sample"]}.items() <= brute_force("Jazz").items()
    assert sum(bool(v["title"]) for v in body["sample"]) >= 48  # only release UNSTORED's two can be untitled
    unseeded = await (await client.get(f"/api/v1/query?year={1960 + UNSTORED % 30}&limit=50")).json()
    assert {v["video_id"]: v["title"] for v in unseeded["sample"] if v["release_id"] == UNSTORED} == {
        f"v{UNSTORED:06d}{k}abc": "" for k in (1, 2)}


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
