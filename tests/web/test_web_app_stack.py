"""create_app with its real services (Redis index, Mongo, Kafka) on the local stack."""

import pytest
from pymongo import MongoClient
from web_fakes import web_settings

from sinks.mongo_store import to_document
from web.app import create_app

pytestmark = pytest.mark.stack


@pytest.fixture
def settings(isolated_settings):
    base = web_settings()
    settings = isolated_settings.with_(session_secret=base.session_secret, token_key=base.token_key)
    release = {"id": 249504, "title": "Never Gonna Give You Up"}
    with MongoClient(settings.mongo_url) as mongo:
        mongo[settings.mongo_db]["releases"].insert_one(to_document(249504, release))
    return settings


async def test_real_services_answer(settings, aiohttp_client):  # the site stops before settings drop its topics
    client = await aiohttp_client(create_app(settings))
    release = await client.get("/api/v1/releases/249504")
    assert await release.json() == {"id": 249504, "title": "Never Gonna Give You Up"}
    assert (await client.get("/api/v1/releases/1")).status == 404
    empty = await client.get("/api/v1/query?genre=Nothing%20Here")
    assert empty.status == 200
    assert (await empty.json())["releases"] == 0
    assert (await client.get("/api/v1/facets/genre?prefix=zzz")).status == 200
