"""Turn URL parameters or a JSON query object into a validated FacetQuery (pure, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from multidict import MultiMapping

from schemas.query import DEFAULT_LIMIT, FACETS, MAX_LIMIT, UNIQUE_MODES, FacetQuery

_CONTROL_PARAMS = ("limit", "unique", "seed")
_YEAR = re.compile(r"\d{4}")


class QueryError(ValueError):
    """A query parameter is unknown or malformed; the message is safe to show to the user."""


def _facet_values(facet: str, raw: Iterable[object]) -> tuple[str, ...]:
    values: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise QueryError(f"{facet}: values must be strings")
        value = item.strip()
        if not value:
            raise QueryError(f"{facet}: empty value")
        if facet in ("year", "decade") and not _YEAR.fullmatch(value):
            raise QueryError(f"{facet}: {value!r} is not a 4-digit year")
        if facet == "decade" and int(value) % 10:
            raise QueryError(f"decade: {value!r} is not a multiple of 10")
        if value not in values:
            values.append(value)
    return tuple(values)


def _int(name: str, raw: object) -> int:
    # bool is an int subclass; true/false in JSON is not a number here.
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw)
    raise QueryError(f"{name}: {raw!r} is not an integer")


def _unique(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in UNIQUE_MODES:
        raise QueryError(f"unique: {raw!r} is not one of {', '.join(UNIQUE_MODES)}")
    return str(raw)


def build_query(
    facets: Mapping[str, Iterable[object]],
    *,
    limit: object = DEFAULT_LIMIT,
    unique: object = None,
    seed: object = None,
    max_limit: int = MAX_LIMIT,
) -> FacetQuery:
    """Validate facet values and options; the one place both the URL and the JSON forms are checked."""
    unknown = sorted(set(facets) - set(FACETS))
    if unknown:
        raise QueryError(f"unknown parameter(s): {', '.join(unknown)}; facets are {', '.join(FACETS)}")
    values = {facet: _facet_values(facet, raw) for facet, raw in facets.items()}
    n = _int("limit", limit)
    if not 1 <= n <= max_limit:
        raise QueryError(f"limit: must be between 1 and {max_limit}")
    return FacetQuery(
        facets={facet: values[facet] for facet in FACETS if values.get(facet)},
        limit=n,
        unique=_unique(unique),
        seed=None if seed is None or seed == "" else _int("seed", seed),
    )


def parse_query(
    params: MultiMapping[str],
    *,
    default_limit: int = DEFAULT_LIMIT,
    max_limit: int = MAX_LIMIT,
) -> FacetQuery:
    """URL form: repeatable facet parameters plus `limit`, `unique`, `seed` (each at most once)."""
    facets: dict[str, list[str]] = {}
    options: dict[str, str] = {}
    for name in params:
        if name in options or name in facets:
            continue
        if name in _CONTROL_PARAMS:
            given = params.getall(name)
            if len(given) > 1:
                raise QueryError(f"{name}: given more than once")
            options[name] = given[0]
        else:
            facets[name] = params.getall(name)
    if "limit" in options and not options["limit"].strip():
        raise QueryError("limit: empty value")
    limit: object = options.pop("limit", default_limit)
    return build_query(facets, limit=limit, max_limit=max_limit, **options)


def query_from_json(obj: object, *, limit: int, max_limit: int) -> FacetQuery:
    """JSON form used by playlist requests: {facet: [values], "unique"?: "master", "seed"?: int}."""
    if not isinstance(obj, Mapping):
        raise QueryError("query: must be an object")
    options = {k: obj[k] for k in ("unique", "seed") if k in obj}
    if "limit" in obj:
        raise QueryError("query: limit is set by max_videos")
    facets: dict[str, Any] = {}
    for name, raw in obj.items():
        if name in options:
            continue
        if not isinstance(raw, list):
            raise QueryError(f"{name}: must be a list of strings")
        facets[name] = raw
    return build_query(facets, limit=limit, max_limit=max_limit, **options)


def query_to_json(query: FacetQuery) -> dict[str, Any]:
    """Inverse of query_from_json (without the limit), as stored in playlist jobs."""
    out: dict[str, Any] = {facet: list(values) for facet, values in query.facets.items()}
    if query.unique is not None:
        out["unique"] = query.unique
    if query.seed is not None:
        out["seed"] = query.seed
    return out
