"""Security headers on every response (pages, API, static files, errors, websocket handshakes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

YOUTUBE = "https://www.youtube.com"


def content_security_policy(public_base_url: str) -> str:
    """Exactly what the page uses: its own scripts, styles and API; the YouTube IFrame Player (its script and
    frames); the data: favicon; the status websocket on the site's own host."""
    parts = urlsplit(public_base_url)
    socket_origin = f"{'wss' if parts.scheme.lower() == 'https' else 'ws'}://{parts.netloc}"
    return "; ".join([
        "default-src 'none'",
        f"script-src 'self' {YOUTUBE}",
        f"frame-src {YOUTUBE} https://www.youtube-nocookie.com",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src 'self' {socket_origin}",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


def security_headers(public_base_url: str) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An on_response_prepare signal handler setting the headers."""
    headers = {
        "Content-Security-Policy": content_security_policy(public_base_url),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
        # Other sites learn nothing of our URLs (the sign-in callback's carries a code).
        "Referrer-Policy": "same-origin",
        # Not aiohttp's default, which names the framework and its version.
        "Server": "dataget",
    }

    async def on_prepare(_request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)

    return on_prepare
