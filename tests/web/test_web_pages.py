"""Pages for people: a real release and master as HTML, the 404 page, and their caching."""

import re

import pytest
from fixture_records import fixture_records, release_with_videos_and_tracks
from web_fakes import FakeIndex, FakeStore, ListPublisher, web_settings

from web.app import create_app
from web.caching import RECORD_CACHE


@pytest.fixture
async def client(aiohttp_client):
    release = release_with_videos_and_tracks()
    masters = fixture_records("masters")
    store = FakeStore(releases={release["id"]: release}, masters=masters)
    app = create_app(web_settings(), index=FakeIndex().provider, store=store, publisher=ListPublisher(),
                     follow_status_topic=False)
    return await aiohttp_client(app)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_release_page_shows_the_record_with_links_that_start_selections(client):
    release = release_with_videos_and_tracks()
    resp = await client.get(f"/releases/{release['id']}")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert f"<h1>{release['title']}</h1>" in html
    for track in release["tracklist"]:
        assert track["title"] in text_of(html)
    for video in release["videos"]:
        assert f'data-video-id="{video["youtube_id"]}"' in html
    label = release["labels"][0]
    assert f'href="/?label={label["name"].replace(" ", "+")}"' in html
    assert label["catno"] in html
    assert f'href="/?genre={release["genres"][0].replace(" ", "+")}"' in html
    assert f'href="https://www.discogs.com/release/{release["id"]}"' in html
    assert f'href="/masters/{release["master_id"]}"' in html
    assert resp.headers["Cache-Control"] == RECORD_CACHE
    again = await client.get(f"/releases/{release['id']}", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304


async def test_master_page(client):
    master = next(m for m in fixture_records("masters").values() if m.get("videos") and m.get("main_release"))
    html = await (await client.get(f"/masters/{master['id']}")).text()
    assert f"<h1>{master['title']}</h1>" in html.replace("&#x27;", "'")
    assert f'href="/releases/{master["main_release"]}"' in html
    assert f'href="https://www.discogs.com/master/{master["id"]}"' in html
    assert html.count("data-video-id=") == len(master["videos"])


@pytest.mark.parametrize("path", ["/releases/1", "/masters/1", "/releases/abc", "/releases/0", "/no/such/page",
                                  "/releases/" + "9" * 30])
async def test_unknown_addresses_get_the_404_page(client, path):
    resp = await client.get(path)
    assert resp.status == 404 and resp.content_type == "text/html"
    html = await resp.text()
    assert "<h1>Not found</h1>" in html and 'href="/"' in html
    assert resp.headers["Cache-Control"] == "no-store"


async def test_the_api_keeps_json_errors(client):
    resp = await client.get("/api/v1/nothing")
    assert resp.status == 404 and resp.content_type == "application/json"
    assert "error" in await resp.json()
