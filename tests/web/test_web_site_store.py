"""The site's store on the real MongoDB-wire server: playlist requests in, out, and gone."""

from __future__ import annotations

import pytest
from web_fakes import web_settings

from runtime.settings import Settings
from web.site_store import MongoStore

pytestmark = pytest.mark.stack


async def test_a_playlist_request_is_stored_found_and_deleted(isolated_settings: Settings) -> None:
    store = MongoStore(web_settings(mongo_url=isolated_settings.mongo_url, mongo_db=isolated_settings.mongo_db))
    try:
        job = {"job_id": "j-1", "user_id": "google:1", "title": "Jazz sampler"}
        await store.create_job(job)
        assert await store.get_job("j-1") == {**job, "_id": "j-1"}
        await store.delete_job("j-1")
        assert await store.get_job("j-1") is None
        await store.delete_job("j-1")  # deleting what is gone is no error
    finally:
        await store.close()
