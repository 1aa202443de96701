import pytest
from web_fakes import FakeIndex, FakeStore, ListPublisher, web_settings

from schemas.query import FacetQuery
from web.app import create_app
from web.rate_limit import BudgetedIndex, ClientLimiter, QueryBudget, SiteBusy, client_key, parse_networks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_then_the_rate():
    clock = Clock()
    limiter = ClientLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.wait("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.wait("a") == pytest.approx(0.5)
    assert limiter.wait("b") == 0  # another client has its own bucket
    clock.now += 0.5
    assert limiter.wait("a") == 0
    assert limiter.wait("a") > 0


def test_the_limiter_forgets_the_least_recently_seen_client_first():
    limiter = ClientLimiter(rate=1, burst=1, clock=Clock(), max_clients=2)
    limiter.wait("a")
    limiter.wait("b")
    limiter.wait("a")
    limiter.wait("c")  # b goes
    assert limiter.wait("a") > 0 and limiter.wait("b") == 0


PROXY = parse_networks(["10.0.0.0/8"])


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "key"), [
    ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),  # no trusted proxy: the header is anybody's to write
    ("203.0.113.9", "198.51.100.1", PROXY, "203.0.113.9"),  # not from the proxy: ignored
    ("10.0.0.2", "198.51.100.1", PROXY, "198.51.100.1"),
    ("10.0.0.2", "1.2.3.4, 198.51.100.1", PROXY, "198.51.100.1"),  # the forged left part is not believed
    ("10.0.0.2", "198.51.100.1, 10.0.0.7", PROXY, "198.51.100.1"),  # a chain of trusted proxies
    ("10.0.0.2", "not-an-address, 10.0.0.7", PROXY, "10.0.0.7"),
    ("10.0.0.2", None, PROXY, "10.0.0.2"),
    ("2001:db8:1:2:3::4", None, (), "2001:db8:1:2::/64"),  # IPv6 clients count by /64
])
def test_client_key(peer, forwarded, trusted, key):
    assert client_key(peer, forwarded, trusted) == key


async def test_the_query_budget_queues_briefly_then_refuses():
    clock, slept = Clock(), []

    async def sleep(seconds):
        slept.append(seconds)

    budget = QueryBudget(rate=4, clock=clock, sleep=sleep, max_wait=1.0)
    for _ in range(4):  # a second's worth at once
        await budget.acquire()
    assert slept == []
    for _ in range(4):  # then one turn every 1/4 s, waited for
        await budget.acquire()
    assert slept == pytest.approx([0.25, 0.5, 0.75, 1.0])
    with pytest.raises(SiteBusy) as busy:
        await budget.acquire()
    assert busy.value.retry_after == pytest.approx(1.25)
    clock.now += 10
    await budget.acquire()
    assert len(slept) == 4


async def test_budgeted_index_takes_a_turn_per_call():
    budget = QueryBudget(rate=1, clock=Clock(), max_wait=0)
    index = BudgetedIndex(FakeIndex(), budget)
    await index.query(FacetQuery())
    with pytest.raises(SiteBusy):
        await index.facet_values("genre")


def make_app(**changes):
    return create_app(web_settings(**changes), index=FakeIndex().provider, store=FakeStore(),
                      publisher=ListPublisher(), follow_status_topic=False)


async def test_a_client_over_its_rate_gets_429_with_retry_after(aiohttp_client):
    client = await aiohttp_client(make_app(rate_limit_per_s=0.5, rate_limit_burst=3))
    assert [(await client.get("/api/v1/query")).status for _ in range(3)] == [200] * 3
    resp = await client.get("/api/v1/query")
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "2"
    assert "error" in await resp.json()
    assert (await client.get("/")).status == 200  # the page itself is not limited


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(aiohttp_client):
    spoofing = await aiohttp_client(make_app(rate_limit_per_s=0.1, rate_limit_burst=1))
    assert (await spoofing.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.1"})).status == 200
    assert (await spoofing.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.2"})).status == 429
    proxied = await aiohttp_client(make_app(rate_limit_per_s=0.1, rate_limit_burst=1, trusted_proxies=("127.0.0.1",)))
    for client_address in ("198.51.100.1", "198.51.100.2"):
        assert (await proxied.get("/api/v1/me", headers={"X-Forwarded-For": client_address})).status == 200
    assert (await proxied.get("/api/v1/me", headers={"X-Forwarded-For": "198.51.100.1"})).status == 429


async def test_a_spent_query_budget_is_a_503_with_retry_after(aiohttp_client):
    client = await aiohttp_client(make_app(query_rate_per_process=0.25))
    assert (await client.get("/api/v1/query")).status == 200
    resp = await client.get("/api/v1/facets/genre")
    assert resp.status == 503
    assert resp.headers["Retry-After"] == "4"
    assert "busy" in (await resp.json())["error"]
