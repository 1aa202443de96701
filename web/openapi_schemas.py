"""The component schemas of the API's OpenAPI description: the shapes of request bodies and answers (pure).

Limits come from schemas/query.py, schemas/playlist_jobs.py and the route modules, record and message shapes from
the JSON Schemas in schemas/; web/openapi.py refers to these components from the paths.
"""

from __future__ import annotations

from typing import Any

from schemas.generate import load_schema
from schemas.playlist_jobs import MAX_PLAYLIST_ITEMS, PRIVACIES
from schemas.query import (
    FACETS,
    MAX_LIMIT,
    MAX_QUERY_VALUES,
    MAX_VALUE_LENGTH,
    MAX_VALUES_PER_FACET,
    SEED_MAX,
    SEED_MIN,
    UNIQUE_MODES,
)
from schemas.youtube import VIDEO_ID
from web import export, playlist_jobs

Schema = dict[str, Any]
YOUTUBE_ID = f"^{VIDEO_ID.pattern}$"
_YEAR_FACETS = ("year", "decade")


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def embedded(name: str, schema: Any) -> Any:
    """A schema file of schemas/ as the component `name`: its own references ("#/$defs/...") made to point
    inside the component, its $id and $schema left out, so any OpenAPI tool resolves it within this document."""
    if isinstance(schema, list):
        return [embedded(name, item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: embedded(name, value) for key, value in schema.items() if key not in ("$id", "$schema")}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/"):
        out["$ref"] = f"#/components/schemas/{name}/{out['$ref'][2:]}"
    return out


def facet_value_schema(facet: str) -> Schema:
    schema: Schema = {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_LENGTH}
    if facet in _YEAR_FACETS:
        schema["pattern"] = "^[0-9]{3}0$" if facet == "decade" else "^[0-9]{4}$"
    return schema


def schemas() -> dict[str, Schema]:
    query_object: Schema = {
        "type": "object",
        "description": f"a selection: facet -> values; at most {MAX_QUERY_VALUES} values in all",
        "additionalProperties": False,
        "properties": {
            **{f: {"type": "array", "maxItems": MAX_VALUES_PER_FACET, "items": facet_value_schema(f)} for f in FACETS},
            "unique": {"enum": list(UNIQUE_MODES)},
            "seed": {"type": "integer", "minimum": SEED_MIN, "maximum": SEED_MAX},
        },
    }
    return {
        "Error": {"type": "object", "required": ["error"], "properties": {
            "error": {"type": "string"},
            "connect": {"type": "string", "description": "where to grant the YouTube access a playlist needs"},
        }},
        "SampleVideo": {
            "type": "object",
            "required": ["video_id", "release_id", "title"],
            "properties": {
                "video_id": {"type": "string", "pattern": YOUTUBE_ID},
                "release_id": {"type": "integer", "minimum": 0,
                               "description": "a release of the selection that has the video (0: none known)"},
                "title": {"type": "string"},
            },
        },
        "QueryResult": {
            "type": "object",
            "required": ["releases", "videos", "sample"],
            "properties": {
                "releases": {"type": "integer", "minimum": 0,
                             "description": "matching releases (with unique=master: masters, and releases "
                                            "without one)"},
                "videos": {"type": "integer", "minimum": 0, "description": "distinct YouTube videos among them"},
                "sample": {"type": "array", "maxItems": MAX_LIMIT, "items": ref("SampleVideo")},
            },
        },
        "FacetValue": {
            "type": "object",
            "required": ["value", "releases"],
            "properties": {"value": {"type": "string"}, "releases": {"type": "integer", "minimum": 0}},
        },
        "Release": embedded("Release", load_schema("discogs.releases")),
        "User": {
            "type": "object",
            "required": ["user", "demo"],
            "properties": {"user": {"oneOf": [
                {"type": "null"},
                {"type": "object", "required": ["id", "email"],
                 "properties": {"id": {"type": "string"}, "email": {"type": "string"}}},
            ]}, "demo": {"type": "boolean", "description": "true under `dataget demo`: sign-in and playlists are "
                                                          "local stand-ins of Google and YouTube"}},
        },
        "Query": query_object,
        "PlaylistRequest": {
            "type": "object",
            "required": ["title"],
            "additionalProperties": False,
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": playlist_jobs.MAX_TITLE},
                "privacy": {"enum": list(PRIVACIES), "default": PRIVACIES[0]},
                "max_videos": {"type": "integer", "minimum": 1, "maximum": MAX_PLAYLIST_ITEMS,
                               "default": playlist_jobs.DEFAULT_PLAYLIST_VIDEOS},
                "query": ref("Query"),
            },
        },
        "PlaylistAccepted": {
            "type": "object",
            "required": ["job_id", "total"],
            "properties": {"job_id": {"type": "string", "format": "uuid"},
                           "total": {"type": "integer", "minimum": 1, "maximum": MAX_PLAYLIST_ITEMS}},
        },
        "StatusSnapshot": embedded("StatusSnapshot", load_schema("playlist.status")),
        "ExportRow": {
            "type": "object",
            "required": list(export.CSV_COLUMNS),
            "properties": {
                "video_id": {"type": "string", "pattern": YOUTUBE_ID},
                "title": {"type": "string"},
                "release_id": {"type": ["integer", "null"]},
                "url": {"type": "string", "format": "uri"},
                "release_url": {"type": ["string", "null"], "format": "uri"},
            },
        },
        "ExportLinks": {
            "type": "object",
            "required": ["videos", "links"],
            "properties": {
                "videos": {"type": "integer", "minimum": 0},
                "links": {"type": "array", "items": {"type": "string", "format": "uri"},
                          "description": f"watch_videos links of at most {export.WATCH_IDS_PER_LINK} videos each"},
            },
        },
    }
