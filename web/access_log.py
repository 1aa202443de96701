"""The site's access log, with OAuth secrets (the callback's code and state, any token) cut out of URLs."""

from __future__ import annotations

import re

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

_SECRET_PARAMS = re.compile(r"(?<=[?&;])(code|state|id_token|access_token|refresh_token)=[^&;#]*", re.IGNORECASE)


def redact(url: str) -> str:
    """The URL (or path and query) with the values of secret parameters replaced by REDACTED."""
    return _SECRET_PARAMS.sub(r"\1=REDACTED", url)


class RedactingAccessLogger(AbstractAccessLogger):
    """One line per request: peer, request line, status, bytes, seconds, Referer and User-Agent (like aiohttp's)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        version = request.version
        self.logger.info(
            '%s "%s %s HTTP/%d.%d" %d %d %.6f "%s" "%s"',
            request.remote, request.method, redact(request.raw_path), version.major, version.minor,
            response.status, response.body_length, time,
            redact(request.headers.get("Referer", "-")), request.headers.get("User-Agent", "-"),
        )
