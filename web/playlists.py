"""Playlist jobs over HTTP: create (publish to Kafka), latest status, and live status over a websocket."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import WSCloseCode, web

from schemas.playlist_jobs import PlaylistJob, StatusSnapshot
from web.api import error_response, json_response, read_json
from web.auth import check_origin, require_user
from web.playlist_jobs import build_job, initial_snapshot, parse_playlist_request, refusal
from web.ports import CTX
from web.query_params import QueryError, parse_int
from web.selection import collect_videos
from web.status_hub import Subscription, TooManySockets, is_terminal
from web.youtube_access import has_youtube

log = logging.getLogger(__name__)
# Where the page sends the visitor to grant YouTube access (web/auth.py login).
CONNECT_URL = "/auth/login?youtube=1"


async def create_playlist(request: web.Request) -> web.Response:
    user = await require_user(request)
    check_origin(request)
    # JSON only: a cross-site HTML form cannot send it without a CORS preflight.
    if request.content_type != "application/json":
        return error_response(415, "send the request as application/json")
    try:
        playlist = parse_playlist_request(await read_json(request))
    except QueryError as exc:
        return error_response(400, str(exc))
    ctx = request.app[CTX]
    # The site's YouTube quota is shared: a request it cannot serve fairly is refused before any work.
    if (reason := refusal(playlist, await ctx.store.active_jobs(user["id"]), ctx.settings)) is not None:
        return error_response(429, reason)
    if not await has_youtube(ctx.store, user["id"]):
        # Incremental authorization: sign-in asked only who the user is; YouTube access is asked for now.
        return json_response({"error": "connect your YouTube account to create playlists", "connect": CONNECT_URL},
                             status=403)
    videos = [video.video_id for video in await collect_videos(await ctx.index(), playlist.query)]
    if not videos:
        return error_response(422, "the query matches no videos")
    job = build_job(user["id"], playlist, videos)
    await ctx.store.create_job(job)
    try:
        await ctx.publisher.publish(job)
    except Exception:
        # Not queued, so no job: the visitor is told to try again (a 503 when Kafka does not answer), and no request
        # is left behind as "queued" forever.
        await ctx.store.delete_job(job["job_id"])
        raise
    log.info("playlist job %s queued for %s with %d videos", job["job_id"], user["id"], len(videos))
    return web.json_response({"job_id": job["job_id"], "total": len(videos)}, status=202)


async def _owned_job(request: web.Request, user: dict[str, str]) -> PlaylistJob:
    job = await request.app[CTX].store.get_job(request.match_info["job_id"])
    # Someone else's job is as absent as a missing one.
    if job is None or job.get("user_id") != user["id"]:
        raise web.HTTPNotFound(text='{"error": "no such playlist job"}', content_type="application/json")
    return job


async def _stored_status(request: web.Request, job: PlaylistJob) -> StatusSnapshot:
    """A job's status when this process holds no snapshot of it: as the worker saved it (a job finished long ago),
    else queued (the worker has not seen it yet)."""
    return await request.app[CTX].store.get_job_status(job["job_id"]) or initial_snapshot(job)


async def playlist_status(request: web.Request) -> web.Response:
    user = await require_user(request)
    job = await _owned_job(request, user)
    latest = request.app[CTX].hub.latest(job["job_id"])
    return web.json_response(latest or await _stored_status(request, job))


async def _pump(ws: web.WebSocketResponse, sub: Subscription) -> None:
    while True:
        snapshot = await sub.get()
        if snapshot is None:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
            return
        await ws.send_json(snapshot)
        if is_terminal(snapshot):
            await ws.close()
            return


async def playlist_socket(request: web.Request) -> web.StreamResponse:
    check_origin(request)
    user = await require_user(request)
    job = await _owned_job(request, user)
    try:
        since = parse_int("since", request.query.get("since", "-1"), -1, 2**63 - 1)
    except QueryError as exc:
        return error_response(400, str(exc))
    hub = request.app[CTX].hub
    try:
        sub = hub.subscribe(job["job_id"], since, user["id"])
    except TooManySockets as exc:
        return error_response(429, str(exc))
    ws = web.WebSocketResponse(heartbeat=25, max_msg_size=64 * 1024)
    pump: asyncio.Task[None] | None = None
    try:
        await ws.prepare(request)
        if hub.latest(job["job_id"]) is None:
            sub.offer(await _stored_status(request, job))  # sent unless the client has seen more (since)
        pump = asyncio.create_task(_pump(ws, sub))
        async for _message in ws:
            pass  # the client has nothing to say; reading keeps pings and close frames flowing
    finally:
        if pump is not None:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await pump
        hub.unsubscribe(sub)
    return ws


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/playlists", create_playlist)
    app.router.add_get("/api/v1/playlists/{job_id}", playlist_status)
    app.router.add_get("/ws/playlists/{job_id}", playlist_socket)
