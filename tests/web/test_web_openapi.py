"""The OpenAPI description against the site: every route is described, and real answers of every described
operation (successes and refusals) have a described status, content type and shape."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from aiohttp import ClientResponse
from fixture_records import fixture_catalog, fixture_records, release_with_videos_and_tracks
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from web_fakes import ORIGIN, FakeIndex, FakeStore, ListPublisher, sign_in, web_settings

from web.api_page import api_page
from web.app import create_app
from web.openapi import openapi_document

DOC_URI = "urn:dataget:openapi"
DOC = openapi_document()
# Static files are files, not an API.
UNDESCRIBED = {"/static"}


REGISTRY = Registry().with_resource(DOC_URI, Resource(contents=DOC, specification=DRAFT202012))


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    """A response schema with its local refs pointing into the document resource."""
    text = orjson.dumps(schema).decode().replace('"#/components/', f'"{DOC_URI}#/components/')
    return orjson.loads(text)


def operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}


def template(path: str) -> str:
    """aiohttp's canonical path with its {name:regex} variables as OpenAPI's {name}."""
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", r"{\1}", path)


def test_the_document_is_well_formed():
    assert DOC["openapi"].startswith("3.1")
    ids = [op["operationId"] for ops in DOC["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for name, schema in DOC["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name and schema
    for path, ops in DOC["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for op in ops.values():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, path
            assert op["responses"]
    # Every reference in the document resolves.
    resolver = REGISTRY.resolver(DOC_URI)
    for found in re.findall(r'"\$ref":"(#[^"]+)"', orjson.dumps(DOC).decode()):
        resolver.lookup(DOC_URI + found)


@pytest.fixture
def app(oidc):
    release = release_with_videos_and_tracks()
    store = FakeStore(releases={release["id"]: release}, masters=fixture_records("masters"))
    settings = web_settings(public_base_url=ORIGIN, rate_limit_per_s=0.0, **oidc.settings_overrides())
    # Real releases: their video ids follow YouTube's rule, as the description says.
    return create_app(settings, index=FakeIndex(fixture_catalog()).provider, store=store, publisher=ListPublisher(),
                      follow_status_topic=False)


def test_every_route_is_described(app):
    routes = {
        (route.method, template(route.resource.canonical))
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
        and not route.resource.canonical.startswith(tuple(UNDESCRIBED))
    }
    assert routes == operations(DOC)


class Checker:
    """Checks answers against the operation they came from; remembers which operations were seen."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    async def check(self, method: str, path: str, resp: ClientResponse, status: int) -> Any:
        assert resp.status == status, (method, path, resp.status, await resp.text())
        self.seen.add((method, path))
        response = DOC["paths"][path][method.lower()]["responses"].get(str(resp.status))
        assert response is not None, f"{method} {path} answered an undescribed {resp.status}"
        content = response.get("content")
        if not content or resp.status in (101, 304) or not await resp.read():
            return None
        assert resp.content_type in content, (method, path, resp.content_type)
        body = await resp.read()
        if resp.content_type != "application/json":
            return body.decode()
        data = orjson.loads(body)
        Draft202012Validator(resolved(content[resp.content_type]["schema"]), registry=REGISTRY).validate(data)
        return data


async def test_real_answers_of_every_operation_match_their_description(aiohttp_client, app):
    client = await aiohttp_client(app)
    c = Checker()
    release = release_with_videos_and_tracks()
    master = next(m for m in fixture_records("masters").values() if m.get("videos"))

    q = "/api/v1/query"
    ok = await client.get(q, params={"genre": "Electronic", "seed": "3", "limit": "5"})
    await c.check("GET", q, ok, 200)
    await c.check("GET", q, await client.get(q, params={"genre": "Electronic", "seed": "3", "limit": "5"},
                                             headers={"If-None-Match": ok.headers["ETag"]}), 304)
    await c.check("GET", q, await client.get(q, params={"limit": "x"}), 400)

    f = "/api/v1/facets/{facet}"
    values = await c.check("GET", f, await client.get("/api/v1/facets/genre", params={"decade": "1990"}), 200)
    assert values
    await c.check("GET", f, await client.get("/api/v1/facets/colour"), 400)
    again = await client.get("/api/v1/facets/genre")
    await c.check("GET", f, await client.get("/api/v1/facets/genre", headers={"If-None-Match": again.headers["ETag"]}),
                  304)

    r = "/api/v1/releases/{release_id}"
    assert (await c.check("GET", r, await client.get(f"/api/v1/releases/{release['id']}"), 200))["id"] == release["id"]
    await c.check("GET", r, await client.get("/api/v1/releases/1"), 404)
    await c.check("GET", r, await client.get("/api/v1/releases/abc"), 400)

    x = "/api/v1/export"
    as_json = await client.get(x, params={"format": "json", "genre": "Electronic", "limit": "4"})
    rows = await c.check("GET", x, as_json, 200)
    assert len(rows) == 4
    links = await c.check("GET", x, await client.get(x, params={"format": "links", "genre": "Electronic"}), 200)
    assert links["videos"] > 0
    assert "video_id" in await c.check("GET", x, await client.get(x, params={"format": "csv"}), 200)
    assert (await c.check("GET", x, await client.get(x, params={"format": "m3u"}), 200)).startswith("#EXTM3U")
    await c.check("GET", x, await client.get(x), 400)

    me = "/api/v1/me"
    assert (await c.check("GET", me, await client.get(me), 200)) == {"user": None, "demo": False}

    p, s, w = "/api/v1/playlists", "/api/v1/playlists/{job_id}", "/ws/playlists/{job_id}"
    body = {"title": "Electronic", "query": {"genre": ["Electronic"]}, "max_videos": 5}
    await c.check("POST", p, await client.post(p, json=body, headers={"Origin": ORIGIN}), 401)
    await c.check("GET", s, await client.get("/api/v1/playlists/nothing"), 401)
    await c.check("GET", "/auth/login", await client.get("/auth/login", allow_redirects=False), 302)
    await c.check("GET", "/auth/callback", await client.get("/auth/callback", allow_redirects=False), 400)
    await sign_in(client)
    assert (await c.check("GET", me, await client.get(me), 200))["user"]
    await c.check("POST", p, await client.post(p, json=body, headers={"Origin": "https://evil.example"}), 403)
    await c.check("POST", p, await client.post(p, data="title=x", headers={"Origin": ORIGIN}), 415)
    await c.check("POST", p, await client.post(p, json={"title": ""}, headers={"Origin": ORIGIN}), 400)
    await c.check("POST", p, await client.post(p, json={**body, "query": {"genre": ["None such"]}},
                                               headers={"Origin": ORIGIN}), 422)
    accepted = await c.check("POST", p, await client.post(p, json=body, headers={"Origin": ORIGIN}), 202)
    job = accepted["job_id"]
    await c.check("GET", s, await client.get(f"/api/v1/playlists/{job}"), 200)
    await c.check("GET", s, await client.get("/api/v1/playlists/nothing"), 404)
    async with client.ws_connect(f"/ws/playlists/{job}", headers={"Origin": ORIGIN}) as ws:
        Draft202012Validator(resolved(DOC["paths"][w]["get"]["responses"]["101"]["content"]["application/json"]
                                      ["schema"]), registry=REGISTRY).validate(await ws.receive_json())
        c.seen.add(("GET", w))
    await c.check("GET", w, await client.get(f"/ws/playlists/{job}", params={"since": "x"},
                                             headers={"Origin": ORIGIN}), 400)
    await c.check("POST", "/auth/logout", await client.post("/auth/logout", allow_redirects=False), 403)
    await c.check("POST", "/auth/logout", await client.post("/auth/logout", headers={"Origin": ORIGIN},
                                                            allow_redirects=False), 303)

    o = "/api/v1/openapi.json"
    served = await client.get(o)
    assert await c.check("GET", o, served, 200) == DOC
    await c.check("GET", o, await client.get(o, headers={"If-None-Match": served.headers["ETag"]}), 304)

    for path, url, missing in (("/releases/{id}", f"/releases/{release['id']}", "/releases/1"),
                               ("/masters/{id}", f"/masters/{master['id']}", "/masters/1")):
        await c.check("GET", path, await client.get(url), 200)
        await c.check("GET", path, await client.get(missing), 404)
    assert "</html>" in await c.check("GET", "/", await client.get("/", params={"genre": "Electronic"}), 200)
    assert "/api/v1/openapi.json" in await c.check("GET", "/api", await client.get("/api"), 200)

    assert c.seen == operations(DOC)


def test_the_page_for_people_links_every_shape_it_names():
    html = api_page(DOC)
    targets = set(re.findall(r'id="(schema-[^"]+)"', html))
    assert set(re.findall(r'href="#(schema-[^"]+)"', html)) <= targets
    assert "schema-Credit" in targets and "<code>error</code>" in html
    for path in DOC["paths"]:
        if path.startswith("/api/"):
            assert f"<code>{path}</code>" in html
