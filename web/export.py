"""Take a selection away without spending YouTube quota: M3U, JSON and CSV files, and watch_videos links."""

from __future__ import annotations

import csv
import io
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
from aiohttp import web
from multidict import MultiDict, MultiMapping

from schemas.query import FacetQuery, SampleVideo
from web.api import error_response, json_response
from web.ports import CTX
from web.query_params import QueryError, parse_query
from web.selection import MAX_COLLECTED, collect_videos

# `links` is a JSON list of watch_videos URLs, not a file.
EXPORT_FORMATS = ("m3u", "json", "csv", "links")
DEFAULT_EXPORT_LIMIT = 500
MAX_EXPORT_LIMIT = MAX_COLLECTED
# YouTube's watch_videos queue takes at most this many ids.
WATCH_IDS_PER_LINK = 50
CSV_COLUMNS = ("video_id", "title", "release_id", "url", "release_url")
_CONTENT_TYPES = {"m3u": "audio/x-mpegurl", "json": "application/json", "csv": "text/csv"}
_SLUG_MAX = 60
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportRequest:
    query: FacetQuery  # seed always set: the same request gives the same file
    file_format: str


def parse_export(params: MultiMapping[str]) -> ExportRequest:
    """The query parameters of /api/v1/query plus `format`; raises QueryError.

    `format` is also the release-format facet: a value naming a file format chooses the file, any other value
    filters by release format, as in /api/v1/query.
    """
    chosen = [value for value in params.getall("format", []) if value in EXPORT_FORMATS]
    if len(chosen) != 1:
        raise QueryError(
            f"format: give exactly one of {', '.join(EXPORT_FORMATS)} "
            "(other format values filter by release format)"
        )
    facet_params = MultiDict(
        (name, value) for name, value in params.items() if not (name == "format" and value in EXPORT_FORMATS)
    )
    query = parse_query(facet_params, default_limit=DEFAULT_EXPORT_LIMIT, max_limit=MAX_EXPORT_LIMIT)
    if query.seed is None:
        query = replace(query, seed=secrets.randbelow(2**31))
    return ExportRequest(query=query, file_format=chosen[0])


def watch_url(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={video_id}"


def watch_videos_links(video_ids: Sequence[str]) -> list[str]:
    """Links that open the videos as a YouTube queue without any API call, WATCH_IDS_PER_LINK ids each."""
    return [
        "https://www.youtube.com/watch_videos?video_ids=" + ",".join(video_ids[start : start + WATCH_IDS_PER_LINK])
        for start in range(0, len(video_ids), WATCH_IDS_PER_LINK)
    ]


def rows(videos: Sequence[SampleVideo]) -> list[dict[str, Any]]:
    """One object per video; a release id of 0 (the index named no release) is null."""
    return [
        {
            "video_id": v.video_id,
            "title": v.title,
            "release_id": v.release_id or None,
            "url": watch_url(v.video_id),
            "release_url": f"https://www.discogs.com/release/{v.release_id}" if v.release_id else None,
        }
        for v in videos
    ]


def to_m3u(videos: Sequence[SampleVideo]) -> str:
    lines = ["#EXTM3U"]
    for v in videos:
        title = " ".join(v.title.split()) or v.video_id  # one line, whatever the title holds
        lines += [f"#EXTINF:-1,{title}", watch_url(v.video_id)]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(videos: Sequence[SampleVideo]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows(videos):
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def file_name(request: ExportRequest) -> str:
    """ASCII, from the facet values and the seed: `dataget-jazz-1960-seed42.m3u`."""
    values = "-".join(_slug(v) for values in request.query.facets.values() for v in values if _slug(v))
    stem = values[:_SLUG_MAX].strip("-") or "all"
    return f"dataget-{stem}-seed{request.query.seed}.{request.file_format}"


def render(request: ExportRequest, videos: Sequence[SampleVideo]) -> web.Response:
    if request.file_format == "links":
        return json_response({"videos": len(videos), "links": watch_videos_links([v.video_id for v in videos])})
    if request.file_format == "json":
        body = orjson.dumps(rows(videos))
    else:
        body = (to_m3u(videos) if request.file_format == "m3u" else to_csv(videos)).encode()
    response = web.Response(body=body, content_type=_CONTENT_TYPES[request.file_format], charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(request)}"'
    return response


async def export(request: web.Request) -> web.Response:
    try:
        wanted = parse_export(request.query)
    except QueryError as exc:
        return error_response(400, str(exc))
    videos = await collect_videos(await request.app[CTX].index(), wanted.query)
    return render(wanted, videos)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/export", export)
