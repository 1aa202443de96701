"""The real release and master excerpts through producer -> Kafka -> faust worker -> Mongo + Redis -> the API.

Expected counts are computed here, independently, from the XML with the standard library's ElementTree.
"""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from pymongo import MongoClient

from dataget.throwaway import drop_throwaway, throwaway_settings
from runtime.local_secrets import with_local_secrets
from runtime.settings import settings_env
from sinks.mongo_store import document_id
from tests.worker_process import running_worker
from web.app import create_app

pytestmark = pytest.mark.stack

RELEASE_FILES = ("releases-sample-philipmat-20200806.xml", "releases-sample-tgmz-2025-2026.xml")
MASTER_FILES = ("masters-sample-philipmat-20200806.xml", "masters-sample-tgmz-2025-2026.xml")
YOUTUBE_ID = re.compile(r"(?:[?&]v=|youtu\.be/|/embed/)([A-Za-z0-9_-]{11})")


def _text(elem: ET.Element | None) -> str:
    return (elem.text or "").strip() if elem is not None else ""


def expected_releases(paths: list[Path]) -> dict[int, tuple[dict[str, set[str]], set[str]]]:
    """release id -> (facet values, YouTube ids), for releases with at least one YouTube video."""
    out = {}
    for path in paths:
        for release in ET.parse(path).getroot():
            videos = set()
            for video in release.iter("video"):
                match = YOUTUBE_ID.search(video.get("src", ""))
                if match and "youtu" in video.get("src", ""):
                    videos.add(match.group(1))
            if not videos:
                continue
            released = _text(release.find("released"))[:4]
            year = released if released.isdigit() and released != "0000" else ""
            facets = {
                "genre": {_text(g) for g in release.findall("genres/genre")},
                "style": {_text(s) for s in release.findall("styles/style")},
                "country": {_text(release.find("country"))},
                "year": {year},
                "decade": {str(int(year) // 10 * 10)} if year else set(),
                "label": {(lab.get("name") or "").strip() for lab in release.findall("labels/label")},
                "artist": {_text(a.find("name")) for a in release.findall("artists/artist")},
                "format": {(f.get("name") or "").strip() for f in release.findall("formats/format")},
            }
            out[int(release.get("id"))] = ({k: {x for x in v if x} for k, v in facets.items()}, videos)
    return out


def expected_counts(data: dict, query: dict[str, list[str]]) -> tuple[int, int]:
    matching = [videos for facets, videos in data.values()
                if all(facets[name] & set(values) for name, values in query.items())]
    return len(matching), len(set().union(*matching)) if matching else 0


@pytest.fixture(scope="module")
def ingested(tmp_path_factory, dataget_bin, stack_settings, fixtures_dir):
    """Ingest the excerpts once for the module with a worker running; yields the settings."""
    work = tmp_path_factory.mktemp("pipeline")
    settings = throwaway_settings(stack_settings, work / "state")
    env = {**os.environ, **settings_env(settings)}
    files = [str(fixtures_dir / f) for f in (*RELEASE_FILES, *MASTER_FILES)]
    with running_worker(dataget_bin, settings, work / "worker.log"):
        done = subprocess.run([str(dataget_bin), "ingest", *files, "--dump-version", "20260301", "--wait",
                               "--wait-timeout", "240"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr + (work / "worker.log").read_text()[-3000:]
    yield settings
    drop_throwaway(settings)


def _ids(paths: list[Path]) -> set[int]:
    return {int(record.get("id")) for path in paths for record in ET.parse(path).getroot()}


def test_mongo_holds_every_release_and_master_once(ingested, fixtures_dir) -> None:
    mongo = MongoClient(ingested.mongo_url)
    db = mongo[ingested.mongo_db]
    # Master 115 is in both master excerpts: one document, the later file's version.
    release_ids = _ids([fixtures_dir / f for f in RELEASE_FILES])
    assert set(db.releases.distinct("_id")) == {document_id(i) for i in release_ids}
    assert set(db.releases.distinct("id")) == release_ids
    assert set(db.masters.distinct("_id")) == {document_id(i) for i in _ids([fixtures_dir / f for f in MASTER_FILES])}
    assert db.masters.count_documents({}) == 33
    violator = db.releases.find_one({"_id": document_id(10222)})
    assert violator["title"] == "Violator" and violator["master_id"] == 18080
    mongo.close()


async def test_api_counts_match_the_xml(ingested, fixtures_dir, aiohttp_client) -> None:
    data = expected_releases([fixtures_dir / f for f in RELEASE_FILES])
    genres = Counter(g for facets, _ in data.values() for g in facets["genre"])
    countries = Counter(c for facets, _ in data.values() for c in facets["country"])
    styles = Counter(s for facets, _ in data.values() for s in facets["style"])
    labels = Counter(lab for facets, _ in data.values() for lab in facets["label"])
    top_genre, second_genre = (g for g, _ in genres.most_common(2))
    queries = [
        {},
        {"genre": [top_genre]},
        {"genre": [top_genre, second_genre]},
        {"genre": [top_genre], "decade": ["1990"]},
        {"country": [countries.most_common(1)[0][0]], "format": ["Vinyl"]},
        {"style": [s for s, _ in styles.most_common(3)], "year": ["1998", "1999", "2000"]},
        {"label": [labels.most_common(1)[0][0]]},
        {"artist": ["Various"], "format": ["CD"]},
        {"artist": ["Depeche Mode"]},
    ]
    client = await aiohttp_client(create_app(with_local_secrets(ingested), follow_status_topic=False))
    for query in queries:
        params = [(name, value) for name, values in query.items() for value in values]
        response = await client.get("/api/v1/query", params=[*params, ("limit", "500")])
        assert response.status == 200, await response.text()
        body = await response.json()
        releases, videos = expected_counts(data, query)
        assert (body["releases"], body["videos"]) == (releases, videos), query
        assert len(body["sample"]) == min(videos, 500)
        assert len({s["video_id"] for s in body["sample"]}) == len(body["sample"])
        for item in body["sample"]:
            assert item["video_id"] in data[item["release_id"]][1]
    assert (await (await client.get("/api/v1/releases/10222")).json())["title"] == "Violator"
    facets = await (await client.get("/api/v1/facets/genre")).json()
    assert facets[0] == {"value": top_genre, "releases": genres[top_genre]}
