"""The API's OpenAPI 3.1 description, built from the constants the handlers validate with (pure): its paths,
parameters and responses here, the shapes of bodies and answers in web/openapi_schemas.py.

Limits come from schemas/query.py, schemas/playlist_jobs.py and the route modules, record and message shapes from
the JSON Schemas in schemas/, so the description cannot drift from what the site accepts and answers;
tests/web/test_web_openapi.py checks real answers of every route against it.
"""

from __future__ import annotations

from typing import Any

from schemas.query import (
    DEFAULT_LIMIT,
    FACETS,
    MAX_LIMIT,
    MAX_VALUE_LENGTH,
    MAX_VALUES_PER_FACET,
    SEED_MAX,
    SEED_MIN,
    UNIQUE_MODES,
)
from web import api, export
from web.caching import DESCRIPTION_CACHE, INDEX_CACHE, RECORD_CACHE
from web.openapi_schemas import Schema, facet_value_schema, ref, schemas

VERSION = "1.0.0"


def facet_parameters(facets: tuple[str, ...] = FACETS) -> list[Schema]:
    """One repeatable query parameter per facet: values of one facet are ORed, facets ANDed."""
    return [
        {
            "name": facet,
            "in": "query",
            "style": "form",
            "explode": True,
            "description": f"{facet} values (repeat the parameter for more; any of them matches)"
            + (": a 4-digit year" if facet == "year" else ": a year ending in 0" if facet == "decade" else ""),
            "schema": {"type": "array", "maxItems": MAX_VALUES_PER_FACET, "items": facet_value_schema(facet)},
        }
        for facet in facets
    ]


def _int_parameter(name: str, low: int, high: int, default: int | None, description: str) -> Schema:
    schema: Schema = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    return {"name": name, "in": "query", "description": description, "schema": schema}


def selection_parameters(default_limit: int, max_limit: int, what: str) -> list[Schema]:
    return [
        *facet_parameters(),
        _int_parameter("limit", 1, max_limit, default_limit, f"most {what}"),
        {"name": "unique", "in": "query", "description": "master: each master release counts once",
         "schema": {"enum": list(UNIQUE_MODES)}},
        _int_parameter("seed", SEED_MIN, SEED_MAX, None,
                       "makes the sample reproducible (same index, selection and seed: same videos)"),
    ]


def _path_parameter(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


_IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                  "description": "an ETag this route gave; 304 when the answer is still the same"}


def _json(schema: Schema, description: str, headers: dict[str, Any] | None = None) -> Schema:
    response: Schema = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _html(description: str) -> Schema:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _error(description: str) -> Schema:
    return _json(ref("Error"), description)


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer", "minimum": 1}}}
_CACHE_HEADERS = {
    "ETag": {"description": "names this answer; send it back in If-None-Match", "schema": {"type": "string"}},
    "Cache-Control": {"description": "how long the answer may be reused", "schema": {"type": "string"}},
}
_NOT_MODIFIED = {"description": "the answer is the one the If-None-Match tag names", "headers": _CACHE_HEADERS}


def _common(responses: dict[str, Schema]) -> dict[str, Schema]:
    """Answers any API route can give beside its own."""
    return {
        **responses,
        "429": _json(ref("Error"), "too many requests from this client", _RETRY_AFTER),
        "500": _error("a bug; the answer hides its details"),
        "503": _json(ref("Error"), "a server behind the site does not answer, the index is being rebuilt, or the "
                                   "site is busy", _RETRY_AFTER),
    }


def _cached_json(schema: Schema, description: str, cache_control: str) -> dict[str, Schema]:
    return {
        "200": _json(schema, f"{description} (Cache-Control: {cache_control})", _CACHE_HEADERS),
        "304": _NOT_MODIFIED,
    }


def _paths() -> dict[str, Any]:
    signed_in: list[dict[str, list[str]]] = [{"session": []}]
    return {
        "/api/v1/query": {"get": {
            "operationId": "query",
            "summary": "Count a selection's releases and videos, with a sample of its videos",
            "parameters": [*selection_parameters(DEFAULT_LIMIT, MAX_LIMIT, "videos in the sample"), _IF_NONE_MATCH],
            "responses": _common({
                **_cached_json(ref("QueryResult"), "counts and sample; cacheable when seeded", INDEX_CACHE),
                "400": _error("a parameter is unknown or malformed"),
            }),
        }},
        "/api/v1/facets/{facet}": {"get": {
            "operationId": "facetValues",
            "summary": "A facet's values, most releases first, counted within a selection of the other facets",
            "description": "Give the selection as in /api/v1/query; the facet's own values are left out of it, so "
                           "each count is what the selection would match with that value instead. The values "
                           "counted within a selection are those with the most releases in the whole catalogue.",
            "parameters": [
                _path_parameter("facet", {"enum": list(FACETS)}, "the facet whose values are listed"),
                {"name": "prefix", "in": "query", "description": "values starting with this (case and accents "
                 "ignored)", "schema": {"type": "string", "maxLength": MAX_VALUE_LENGTH}},
                _int_parameter("limit", 1, api.FACET_VALUES_MAX, api.FACET_VALUES_DEFAULT, "most values"),
                *facet_parameters(),
                _IF_NONE_MATCH,
            ],
            "responses": _common({
                **_cached_json({"type": "array", "maxItems": api.FACET_VALUES_MAX, "items": ref("FacetValue")},
                               "values with their releases", INDEX_CACHE),
                "400": _error("unknown facet or a malformed parameter"),
            }),
        }},
        "/api/v1/releases/{release_id}": {"get": {
            "operationId": "release",
            "summary": "A release as the Discogs dump describes it",
            "parameters": [_path_parameter("release_id", {"type": "integer", "minimum": 1,
                                                          "maximum": api.RELEASE_ID_MAX}, "Discogs release id"),
                           _IF_NONE_MATCH],
            "responses": _common({
                **_cached_json(ref("Release"), "the release", RECORD_CACHE),
                "400": _error("the id is not a positive integer"),
                "404": _error("no such release"),
            }),
        }},
        "/api/v1/export": {"get": {
            "operationId": "export",
            "summary": "A selection's videos as a file (M3U, JSON, CSV) or as YouTube watch_videos links",
            "description": "`format` is also the release-format facet: exactly one value must name a file format "
                           f"({', '.join(export.EXPORT_FORMATS)}); other values filter by release format.",
            "parameters": [
                *selection_parameters(export.DEFAULT_EXPORT_LIMIT, export.MAX_EXPORT_LIMIT, "videos"),
            ],
            "responses": _common({
                "200": {
                    "description": "the file (an attachment) or, with format=links, the links",
                    "content": {
                        "audio/x-mpegurl": {"schema": {"type": "string"}},
                        "text/csv": {"schema": {"type": "string"}},
                        "application/json": {"schema": {"oneOf": [
                            {"type": "array", "items": ref("ExportRow")}, ref("ExportLinks")]}},
                    },
                },
                "400": _error("no file format, or a malformed parameter"),
            }),
        }},
        "/api/v1/me": {"get": {
            "operationId": "me",
            "summary": "Who is signed in (user null: nobody)",
            "responses": _common({"200": _json(ref("User"), "the session's user")}),
        }},
        "/api/v1/playlists": {"post": {
            "operationId": "createPlaylist",
            "summary": "Queue a YouTube playlist of a selection's videos in the signed-in user's account",
            "security": signed_in,
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("PlaylistRequest")}}},
            "responses": _common({
                "202": _json(ref("PlaylistAccepted"), "queued; follow it at /api/v1/playlists/{job_id}"),
                "400": _error("the body is malformed"),
                "401": _error("not signed in"),
                "403": _error("the request does not come from the site's own pages (Origin), or the user has not "
                              "granted YouTube access yet (then `connect` names where to grant it)"),
                "413": _error("the body is too large"),
                "415": _error("the body is not JSON"),
                "422": _error("the selection has no videos"),
            }),
        }},
        "/api/v1/playlists/{job_id}": {"get": {
            "operationId": "playlistStatus",
            "summary": "A playlist job's latest status",
            "security": signed_in,
            "parameters": [_path_parameter("job_id", {"type": "string"}, "from POST /api/v1/playlists")],
            "responses": _common({
                "200": _json(ref("StatusSnapshot"), "the latest status"),
                "401": _error("not signed in"),
                "404": _error("no such job of this user"),
            }),
        }},
        "/ws/playlists/{job_id}": {"get": {
            "operationId": "playlistUpdates",
            "summary": "A websocket of a playlist job's status: a StatusSnapshot JSON message per change, closed "
                       "when the job is done or failed",
            "security": signed_in,
            "parameters": [
                _path_parameter("job_id", {"type": "string"}, "from POST /api/v1/playlists"),
                {"name": "since", "in": "query", "description": "the last seq seen (-1: none); older ones are not "
                 "sent again", "schema": {"type": "integer", "default": -1}},
            ],
            "responses": _common({
                "101": {"description": "switching to the websocket; its messages are StatusSnapshots",
                        "content": {"application/json": {"schema": ref("StatusSnapshot")}}},
                "400": _error("since is not an integer"),
                "401": _error("not signed in"),
                "403": _error("the request does not come from the site's own pages (Origin)"),
                "404": _error("no such job of this user"),
            }),
        }},
        "/auth/login": {"get": {
            "operationId": "signIn",
            "summary": "Start signing in with Google (a redirect to Google's consent page)",
            "parameters": [
                {"name": "youtube", "in": "query", "schema": {"type": "string", "enum": ["1"]},
                 "description": "also ask for access to the user's YouTube account (needed for playlists)"},
                {"name": "next", "in": "query", "schema": {"type": "string"},
                 "description": "a path of this site to return to (anything else returns to /)"},
            ],
            "responses": _common({"302": {"description": "to the provider"}}),
        }},
        "/auth/callback": {"get": {
            "operationId": "signInCallback",
            "summary": "Where Google sends the visitor back; signs in and redirects to the main page",
            "parameters": [{"name": n, "in": "query", "schema": {"type": "string"}} for n in ("state", "code")],
            "responses": _common({
                "302": {"description": "signed in; to the main page"},
                "400": _error("sign-in not completed, expired or forged"),
                "502": _error("the provider did not answer"),
            }),
        }},
        "/auth/logout": {"post": {
            "operationId": "signOut",
            "summary": "Sign out (from the site's own pages only); the session ends on the server too",
            "description": "A form field disconnect=youtube also revokes the YouTube access granted to the site "
                           "and deletes its token.",
            "responses": _common({"303": {"description": "signed out; to the main page"},
                                  "403": _error("the request does not come from the site's own pages (Origin)")}),
        }},
        "/api/v1/openapi.json": {"get": {
            "operationId": "description",
            "summary": "This description",
            "parameters": [_IF_NONE_MATCH],
            "responses": _common(_cached_json({"type": "object"}, "the OpenAPI document", DESCRIPTION_CACHE)),
        }},
        "/": {"get": {"operationId": "mainPage", "summary": "The site: pick facets, hear a sample, make a playlist "
                      "(the selection is in the address: the facet parameters, unique and seed)",
                      "parameters": [*selection_parameters(DEFAULT_LIMIT, MAX_LIMIT, "videos in the sample")],
                      "responses": {"200": _html("the page"), "304": _NOT_MODIFIED}}},
        "/api": {"get": {"operationId": "apiPage", "summary": "This description, for people",
                         "responses": {"200": _html("the page"), "304": _NOT_MODIFIED}}},
        "/releases/{id}": {"get": {
            "operationId": "releasePage", "summary": "A release for people: tracklist, videos, links that start a "
                                                     "selection",
            "parameters": [_path_parameter("id", {"type": "integer", "minimum": 1}, "Discogs release id")],
            "responses": {"200": _html("the page"), "304": _NOT_MODIFIED, "404": _html("no such release")},
        }},
        "/masters/{id}": {"get": {
            "operationId": "masterPage", "summary": "A master release for people",
            "parameters": [_path_parameter("id", {"type": "integer", "minimum": 1}, "Discogs master id")],
            "responses": {"200": _html("the page"), "304": _NOT_MODIFIED, "404": _html("no such master release")},
        }},
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Discogs Dataget",
            "version": VERSION,
            "summary": "Facet queries over the Discogs catalogue's releases with YouTube videos, and playlists",
            "description": "Values of one facet are ORed, different facets ANDed; no facet selects every release "
                           "with a video. Errors are JSON objects with an `error` sentence. Index answers carry an "
                           "ETag that changes when the index does; send it back in If-None-Match for a 304.",
            "license": {"name": "Data: CC0 (Discogs data dumps)", "identifier": "CC0-1.0"},
        },
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "dataget_session",
                                            "description": "set by signing in at /auth/login"}},
        },
    }
