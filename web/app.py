"""The aiohttp application: routes, sessions, and the real services behind the ports (injectable for tests)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path

import aiohttp_session
from aiohttp import web
from redis.asyncio import Redis

from runtime.settings import Settings, redis_address
from runtime.topic_admin import ensure_topics
from sinks.index_versions import ActiveIndex
from web import api, api_page, auth, export, housekeeping, pages, playlists
from web.body_limits import BODY_CAPS, capped_bodies
from web.caching import no_store_by_default
from web.index_pool import IndexPool, Member
from web.kafka_io import KafkaJobPublisher, feed_hub, status_consumer
from web.ports import CTX, IndexProvider, JobPublisher, ReleaseIndex, Store, WebContext
from web.rate_limit import QueryBudget, budgeted, client_rate_limit, parse_networks
from web.security_headers import security_headers
from web.site_store import SiteStore
from web.status_hub import StatusHub

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
# Seconds to connect to the index's Redis servers.
REDIS_CONNECT_TIMEOUT_S = 5

Cleanup = Callable[[web.Application], AsyncIterator[None]]


def redis_index_provider(redis: Redis, base: str, replicas: Mapping[str, Redis] | None = None) -> IndexProvider:
    """The index at redis; its replicas (by address, for logs), if any, share the reads."""
    active: ReleaseIndex = ActiveIndex(redis, base)
    if replicas:
        members = [Member(address, ActiveIndex(replica, base)) for address, replica in replicas.items()]
        active = IndexPool(Member("primary", active), members)

    async def provider() -> ReleaseIndex:
        return active  # it follows switches itself, a query atomically

    return provider


async def _index_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


def _closing(close: Callable[[], Awaitable[object]]) -> Cleanup:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        yield
        await close()

    return ctx


def _publisher_ctx(publisher: KafkaJobPublisher) -> Cleanup:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        await publisher.start()
        yield
        await publisher.stop()

    return ctx


def _status_ctx(settings: Settings, hub: StatusHub) -> Cleanup:
    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        await asyncio.to_thread(ensure_topics, settings)
        consumer = status_consumer(settings)
        await consumer.start()
        task = asyncio.create_task(feed_hub(consumer, hub))
        task.add_done_callback(_log_crash)
        yield
        task.cancel()
        # A crash was already logged by _log_crash.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await consumer.stop()

    return ctx


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("status topic consumer stopped: %r", task.exception())


async def _close_sockets(app: web.Application) -> None:
    app[CTX].hub.close()


def create_app(
    settings: Settings,
    *,
    index: IndexProvider | None = None,
    store: Store | None = None,
    publisher: JobPublisher | None = None,
    follow_status_topic: bool = True,
) -> web.Application:
    """The site. Omitted services are the real ones (Redis index, Mongo, Kafka), opened and closed with the app."""
    rate_limited = client_rate_limit(
        settings.rate_limit_per_s, settings.rate_limit_burst, parse_networks(settings.trusted_proxies))
    app = web.Application(middlewares=[no_store_by_default, api.json_errors, pages.not_found_pages, rate_limited,
                                       capped_bodies, api.unavailable_errors],
                          client_max_size=max(BODY_CAPS.values()))
    aiohttp_session.setup(app, auth.session_storage(settings))
    hub = StatusHub()
    if index is None:
        # An unreachable host fails the request in seconds (a 503, web/api.py) rather than the OS' minutes.
        redis = Redis.from_url(settings.redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S)
        replicas = {redis_address(url): Redis.from_url(url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S)
                    for url in settings.redis_replica_urls}
        index = redis_index_provider(redis, settings.namespace, replicas)
        for client in (redis, *replicas.values()):
            app.cleanup_ctx.append(_closing(client.aclose))
    if store is None:
        mongo = SiteStore(settings)
        store = mongo
        app.cleanup_ctx.append(_closing(mongo.close))
    if publisher is None:
        kafka = KafkaJobPublisher(settings)
        publisher = kafka
        app.cleanup_ctx.append(_publisher_ctx(kafka))
    if follow_status_topic:
        app.cleanup_ctx.append(_status_ctx(settings, hub))
    index = budgeted(index, QueryBudget(settings.query_rate_per_process))
    app[CTX] = WebContext(settings=settings, index=index, store=store, publisher=publisher, hub=hub)
    app.on_shutdown.append(_close_sockets)
    app.cleanup_ctx.append(housekeeping.upkeep(store))
    app.on_response_prepare.append(security_headers(settings.public_base_url))
    api.add_routes(app)
    auth.add_routes(app)
    playlists.add_routes(app)
    export.add_routes(app)
    pages.add_routes(app)
    api_page.add_routes(app)
    app.router.add_get("/", _index_page)
    app.router.add_static("/static/", STATIC_DIR)
    return app
