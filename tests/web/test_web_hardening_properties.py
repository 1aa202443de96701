"""Property tests over every route of the site: whatever a client sends (path values, parameters, headers, bodies),
the answer is a 2xx, 3xx or 4xx, an error from the API or sign-in routes is JSON, and the site keeps serving."""

import re
from urllib.parse import quote

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from web_fakes import ORIGIN, FakeIndex, FakeStore, ListPublisher, web_settings

from dataget.standins.serve import BackgroundServer
from schemas.query import FACETS
from sinks.mongo_store import to_document
from web.app import create_app
from web.query_params import QueryError, parse_query

JSON_PREFIXES = ("/api/", "/auth/", "/ws/")
REQUEST_LINE_MAX = 8190  # aiohttp's max_line_size
# The examples share one site (its state carries over, as a real site's would): nothing is reset between them.
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

tricky_numbers = st.sampled_from([
    "", "-", "--1", "+1", " 7 ", "²", "٣", "1e3", "0x10", "NaN", "-0", "9" * 20, "9" * 5000,
    str(2**63), str(-(2**63) - 1), "0", "-1", "1", "500", "501",
])
any_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
values = st.one_of(tricky_numbers, any_text, st.from_regex(r"[0-9]{1,25}", fullmatch=True),
                   st.sampled_from(["Jazz", "Rock", "1970", "master", "json", "csv", "m3u", "private"]))
names = st.one_of(st.sampled_from(
    (*FACETS, "limit", "seed", "unique", "prefix", "since", "code", "state", "error", "scope", "youtube", "next")),
    any_text)
params = st.lists(st.tuples(names, values), max_size=8)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
              st.floats(allow_nan=False), values),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(names, inner, max_size=5),
    max_leaves=30,
)
playlist_like = st.fixed_dictionaries(
    {"title": values, "privacy": values},
    optional={"query": st.dictionaries(names, st.lists(values, max_size=4) | json_values, max_size=4),
              "max_videos": json_values | st.integers(min_value=-(2**63), max_value=2**64 - 1), "colour": json_values},
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(orjson.dumps),
    playlist_like.map(orjson.dumps),
    st.integers(min_value=1, max_value=20_000).map(lambda depth: b"[" * depth + b"]" * depth),
)
content_types = st.sampled_from([
    "application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
    "application/json; charset=no-such-charset", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "",
])
origins = st.sampled_from([ORIGIN, "http://evil.test", None])


@pytest.fixture(scope="module")
def site(oidc):
    """The site with fake services, served from its own thread: Hypothesis drives it with a blocking client."""
    app = create_app(
        # No rate limits: every example must reach the handlers.
        web_settings(public_base_url=ORIGIN, rate_limit_per_s=0, query_rate_per_process=0,
                     **oidc.settings_overrides()),
        index=FakeIndex().provider,
        store=FakeStore(releases={7: to_document(7, {"id": 7, "title": "Seven", "genres": ["Jazz"]})}),
        publisher=ListPublisher(), follow_status_topic=False,
    )
    server = BackgroundServer(lambda: app, "hardened-site")
    server.start()
    yield app, f"http://127.0.0.1:{server.port}"
    server.stop()


def routes(app, *, signed_in: bool):
    """(method, path pattern) of every route; the signed-in client leaves out what would sign it out."""
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        pattern = info.get("formatter") or info.get("path") or (info.get("prefix", "") + "/{filename}")
        if signed_in and pattern.startswith(("/auth/logout", "/auth/login", "/auth/callback")):
            continue
        found.add((route.method, pattern))
    return sorted(found)


@st.composite
def requests(draw, app, signed_in):
    method, pattern = draw(st.sampled_from(routes(app, signed_in=signed_in)))
    method = draw(st.sampled_from([method, method, method, "DELETE", "PUT"])) if method != "*" else "GET"
    path = re.sub(r"\{[^}]+\}", lambda _m: quote(draw(values), safe="") or "x", pattern)
    headers = {}
    if (origin := draw(origins)) is not None:
        headers["Origin"] = origin
    body = None
    if method in ("POST", "PUT") or draw(st.booleans()):
        body = draw(bodies)
        if (content_type := draw(content_types)):
            headers["Content-Type"] = content_type
    return method, path, draw(params), headers, body


def check(client, method, path, query, headers, body):
    resp = client.request(method, path, params=query, headers=headers, content=body)
    assert resp.status_code < 500, f"{method} {path} {query!r}: {resp.status_code} {resp.text[:300]}"
    # aiohttp's HTTP parser refuses an overlong request line itself, before any of the site's code, in plain text.
    parser_refusal = resp.status_code == 400 and len(resp.request.url.raw_path) > REQUEST_LINE_MAX
    if resp.status_code >= 400 and path.startswith(JSON_PREFIXES) and method != "HEAD" and not parser_refusal:
        assert resp.headers["Content-Type"].startswith("application/json"), f"{method} {path}: {resp.status_code}"
        assert isinstance(resp.json().get("error"), str)
    # ... and the site still answers.
    assert client.get("/api/v1/query", params={"genre": "Jazz"}).status_code == 200


@EXAMPLES
@given(data=st.data())
def test_anonymous_requests_to_every_route(site, data):
    app, url = site
    with httpx.Client(base_url=url) as client:
        check(client, *data.draw(requests(app, signed_in=False)))


@pytest.fixture(scope="module")
def signed_in_client(site):
    _, url = site
    with httpx.Client(base_url=url) as client:
        provider = client.get("/auth/login?youtube=1").headers["Location"]
        back = httpx.URL(httpx.get(provider).headers["Location"])  # the public URL's callback: asked here instead
        assert client.get(back.raw_path.decode()).status_code == 302
        assert client.get("/api/v1/me").json()["user"] is not None
        yield client


@EXAMPLES
@given(data=st.data())
def test_signed_in_requests_to_every_route(site, signed_in_client, data):
    app, _ = site
    check(signed_in_client, *data.draw(requests(app, signed_in=True)))
    assert signed_in_client.get("/api/v1/me").json()["user"] is not None


@EXAMPLES
@given(params)
def test_query_parameters_are_parsed_or_refused_with_a_query_error(query):
    try:
        parsed = parse_query(MultiDict(query))
    except QueryError as exc:
        assert str(exc) and len(str(exc)) < 400
    else:
        assert 1 <= parsed.limit and all(parsed.facets.values())
