import pytest
import redis.exceptions
from web_fakes import FakeIndex, FakeStore, ListPublisher, web_settings

from schemas.query import IndexFormatError
from sinks.mongo_store import to_document
from web.app import create_app
from web.caching import INDEX_CACHE, NO_STORE, RECORD_CACHE, index_etag


@pytest.fixture
def index():
    return FakeIndex()


@pytest.fixture
def store():
    return FakeStore(releases={7: to_document(7, {"id": 7, "title": "Seven", "genres": ["Jazz"]})})


@pytest.fixture
async def client(aiohttp_client, index, store):
    app = create_app(
        web_settings(), index=index.provider, store=store, publisher=ListPublisher(), follow_status_topic=False
    )
    return await aiohttp_client(app)


async def test_query_counts_and_sample(client, index):
    resp = await client.get("/api/v1/query", params=[("genre", "Jazz"), ("genre", "Rock"), ("limit", "3")])
    assert resp.status == 200
    body = await resp.json()
    assert body["releases"] == 20
    assert body["videos"] == 40
    assert len(body["sample"]) == 3
    assert set(body["sample"][0]) == {"video_id", "release_id", "title"}
    assert index.queries[-1].facets == {"genre": ("Jazz", "Rock")}


async def test_an_index_of_an_older_layout_is_a_clear_503(client, index, monkeypatch):
    async def old_layout(query):
        raise IndexFormatError("index t:v1 was built before ...: rebuild it with `dataget reindex`")

    monkeypatch.setattr(index, "query", old_layout)
    resp = await client.get("/api/v1/query?genre=Jazz")
    assert resp.status == 503
    assert "rebuilt" in (await resp.json())["error"]


async def test_a_full_index_redis_is_a_503_with_retry_after(client, index, monkeypatch):
    async def full(query):
        raise redis.exceptions.OutOfMemoryError("command not allowed when used memory > 'maxmemory'.")

    monkeypatch.setattr(index, "query", full)
    resp = await client.get("/api/v1/query?genre=Jazz")
    assert resp.status == 503 and resp.headers["Retry-After"]
    assert "full" in (await resp.json())["error"]


async def test_a_server_that_does_not_answer_is_a_503_that_names_no_address(client, index, monkeypatch, caplog):
    async def redis_down(query):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 10.0.0.7:6379. Connection refused.")

    monkeypatch.setattr(index, "query", redis_down)
    resp = await client.get("/api/v1/query?genre=Jazz")
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "5"
    assert "10.0.0.7" not in (error := (await resp.json())["error"]) and "try again" in error
    assert "does not answer" in caplog.text  # the operator's log names the server


async def test_other_errors_stay_500s(client, index, monkeypatch):
    async def broken(query):
        raise RuntimeError("a bug")

    monkeypatch.setattr(index, "query", broken)
    assert (await client.get("/api/v1/query?genre=Jazz")).status == 500


async def test_query_passes_seed_and_unique(client, index):
    resp = await client.get("/api/v1/query?decade=1980&seed=9&unique=master")
    assert resp.status == 200
    assert (index.queries[-1].seed, index.queries[-1].unique) == (9, "master")


@pytest.mark.parametrize("qs", ["colour=red", "year=77", "decade=1975", "limit=501", "genre="])
async def test_query_errors_are_400_json(client, qs):
    resp = await client.get(f"/api/v1/query?{qs}")
    assert resp.status == 400
    assert "error" in await resp.json()


async def test_facet_values_with_prefix(client):
    resp = await client.get("/api/v1/facets/genre?prefix=j&limit=5")
    assert resp.status == 200
    assert await resp.json() == [{"value": "Jazz", "releases": 10}]


async def test_unknown_facet_and_bad_limit(client):
    assert (await client.get("/api/v1/facets/colour")).status == 400
    assert (await client.get("/api/v1/facets/genre?limit=0")).status == 400
    assert (await client.get("/api/v1/facets/genre?limit=x")).status == 400


async def test_release_document(client):
    resp = await client.get("/api/v1/releases/7")
    assert resp.status == 200
    assert await resp.json() == {"id": 7, "title": "Seven", "genres": ["Jazz"]}
    assert (await client.get("/api/v1/releases/8")).status == 404
    assert (await client.get("/api/v1/releases/abc")).status == 400


async def test_me_anonymous(client):
    resp = await client.get("/api/v1/me")
    assert await resp.json() == {"user": None, "demo": False}


async def test_page_and_static_assets(client):
    page = await client.get("/")
    assert page.status == 200
    html = await page.text()
    assert "/static/app.js" in html
    assert (await client.get("/static/app.js")).status == 200
    assert (await client.get("/static/style.css")).status == 200


async def test_facet_counts_within_the_other_facets(client, index):
    # Counted within decade=1970, and the facet's own chosen values are left out of the selection.
    resp = await client.get("/api/v1/facets/genre", params=[("decade", "1970"), ("genre", "Jazz"), ("limit", "4")])
    assert resp.status == 200
    values = await resp.json()
    for value in values:
        query = await client.get("/api/v1/query", params=[("decade", "1970"), ("genre", value["value"])])
        assert value["releases"] == (await query.json())["releases"]
    assert [v["releases"] for v in values] == sorted((v["releases"] for v in values), reverse=True)
    # Only other facets select: without them the counts are the whole catalogue's.
    alone = await (await client.get("/api/v1/facets/genre", params=[("genre", "Jazz")])).json()
    assert alone == await (await client.get("/api/v1/facets/genre")).json()
    assert (await client.get("/api/v1/facets/genre", params=[("decade", "197")])).status == 400


async def test_index_answers_are_revalidated_by_generation(client, index):
    for url in ("/api/v1/facets/genre?decade=1970", "/api/v1/query?genre=Jazz&seed=3"):
        first = await client.get(url)
        assert first.headers["Cache-Control"] == INDEX_CACHE
        etag = first.headers["ETag"]
        asked = len(index.queries)
        again = await client.get(url, headers={"If-None-Match": etag})
        assert again.status == 304 and again.headers["ETag"] == etag
        assert len(index.queries) == asked  # a 304 costs no query
        index.content = f"{index.content}+1"  # a write
        changed = await client.get(url, headers={"If-None-Match": etag})
        assert changed.status == 200 and changed.headers["ETag"] != etag


async def test_a_seeded_answer_is_tagged_by_the_generation_its_query_names(client, index, monkeypatch):
    async def second_call() -> str:
        raise AssertionError("the answer's generation is read apart from its query")

    monkeypatch.setattr(index, "generation", second_call)
    index.content = "fake@7"
    answer = await client.get("/api/v1/query?genre=Jazz&seed=3")
    assert answer.status == 200 and answer.headers["ETag"] == index_etag("fake@7")


async def test_unseeded_samples_and_the_visitors_own_answers_are_not_stored(client):
    unseeded = await client.get("/api/v1/query?genre=Jazz")
    assert unseeded.headers["Cache-Control"] == NO_STORE and "ETag" not in unseeded.headers
    assert (await client.get("/api/v1/me")).headers["Cache-Control"] == NO_STORE
    assert (await client.get("/api/v1/query?limit=x")).headers["Cache-Control"] == NO_STORE
    release = await client.get("/api/v1/releases/7")
    assert release.headers["Cache-Control"] == RECORD_CACHE
    assert (await client.get("/api/v1/releases/7", headers={"If-None-Match": release.headers["ETag"]})).status == 304
