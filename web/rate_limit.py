"""Rate limits: token buckets per client address (429 + Retry-After) and for a process' index queries (pure asyncio).

A client is its peer address, or, when the peer is a configured trusted proxy, the address that proxy put into
X-Forwarded-For (read from the right, skipping further trusted proxies; what lies left of that is the client's to
forge). IPv6 clients count per /64, the block one subscriber usually gets.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from schemas.query import FacetQuery, FacetValue, QueryResult
from web.ports import IndexProvider, ReleaseIndex

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Clock = Callable[[], float]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Clients remembered at once; the least recently seen is forgotten first (it starts again with a full bucket).
MAX_CLIENTS = 100_000
# Paths whose requests cost the server work (the page and its static files are not limited).
LIMITED_PREFIXES = ("/api/", "/auth/", "/ws/")
# A query waits at most this long for the process' query budget before the site answers 503.
QUERY_WAIT_MAX_S = 1.0


@dataclass
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """Take one token: 0.0 if there was one, else the seconds until there will be."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class ClientLimiter:
    """A token bucket per client key, at most `max_clients` of them."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic, max_clients: int = MAX_CLIENTS) -> None:
        self._rate, self._burst = rate, float(max(burst, 1))
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def wait(self, client: str) -> float:
        """0.0 when the client may go on, else the seconds it should wait."""
        now = self._clock()
        bucket = self._buckets.pop(client, None) or TokenBucket(self._rate, self._burst, self._burst, now)
        self._buckets[client] = bucket
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return bucket.take(now)


def parse_networks(specs: Sequence[str]) -> tuple[Network, ...]:
    """Trusted proxies from settings: addresses or CIDR networks (a ValueError names a bad one)."""
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _key(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def client_key(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The rate-limit key of a request from `peer` carrying the X-Forwarded-For header `forwarded_for`."""
    address = _address(peer or "")
    if address is None:
        return peer or "unknown"  # a unix socket peer: one key for all
    if not trusted or not forwarded_for or not any(address in net for net in trusted):
        return _key(address)
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _address(hop)
        if hop_address is None:
            break  # garbage a proxy would not write: trust nothing left of it
        address = hop_address
        if not any(address in net for net in trusted):
            break
    return _key(address)


def too_many_requests(wait_s: float) -> web.Response:
    response = web.json_response({"error": "too many requests; slow down"}, status=429)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
    return response


def client_rate_limit(rate: float, burst: int, trusted: Sequence[Network], clock: Clock = time.monotonic) -> Callable:
    """Middleware: at most `rate` requests per second (bursts of `burst`) per client on the limited paths."""
    limiter = ClientLimiter(rate, burst, clock)

    @web.middleware
    async def rate_limited(request: web.Request, handler: Handler) -> web.StreamResponse:
        if rate > 0 and request.path.startswith(LIMITED_PREFIXES):
            key = client_key(request.remote, request.headers.get("X-Forwarded-For"), trusted)
            if (wait_s := limiter.wait(key)) > 0:
                return too_many_requests(wait_s)
        return await handler(request)

    return rate_limited


class SiteBusy(Exception):
    """The process' query budget is spent for longer than a request should wait; `retry_after` in seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"query budget spent for {retry_after:.1f} s")
        self.retry_after = retry_after


class QueryBudget:
    """At most `rate` index calls per second (bursts of one second's worth) for the whole process.

    A call over budget waits its turn when that comes within `max_wait` seconds; later than that it raises SiteBusy.
    Turns are handed out in order, so the waiting is fair and bounded: at most rate x max_wait calls wait.
    """

    def __init__(self, rate: float, clock: Clock = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 max_wait: float = QUERY_WAIT_MAX_S) -> None:
        self._rate = rate
        self._clock, self._sleep = clock, sleep
        self._max_wait = max_wait
        # GCRA: a token bucket kept as the time the next call is due; a burst of one second's calls is free.
        self._interval = 1 / rate if rate > 0 else 0.0
        self._tolerance = (max(1.0, rate) - 1) * self._interval
        self._due = -math.inf

    async def acquire(self) -> None:
        if self._rate <= 0:
            return
        now = self._clock()
        due = max(self._due, now)
        wait_s = due - self._tolerance - now
        if wait_s > self._max_wait:
            raise SiteBusy(wait_s)
        self._due = due + self._interval
        if wait_s > 0:
            await self._sleep(wait_s)


class BudgetedIndex:
    """A ReleaseIndex whose calls each take a turn of the process' QueryBudget."""

    def __init__(self, index: ReleaseIndex, budget: QueryBudget) -> None:
        self._index = index
        self._budget = budget

    async def query(self, query: FacetQuery) -> QueryResult:
        await self._budget.acquire()
        return await self._index.query(query)

    async def facet_values(self, facet: str, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        await self._budget.acquire()
        return await self._index.facet_values(facet, prefix, limit)

    async def facet_counts(self, facet: str, within: FacetQuery, prefix: str = "", limit: int = 20) -> list[FacetValue]:
        await self._budget.acquire()
        return await self._index.facet_counts(facet, within, prefix, limit)

    async def generation(self) -> str:
        # Two GETs in a script, far cheaper than a query: not counted against the budget.
        return await self._index.generation()


def budgeted(provider: IndexProvider, budget: QueryBudget) -> IndexProvider:
    """The provider's index, each call taking a turn of `budget`."""

    async def budgeted_provider() -> ReleaseIndex:
        return BudgetedIndex(await provider(), budget)

    return budgeted_provider
