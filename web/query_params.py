"""Turn URL parameters or a JSON query object into a validated FacetQuery (pure, no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from multidict import MultiMapping

from schemas.query import (
    DEFAULT_LIMIT,
    FACETS,
    MAX_LIMIT,
    MAX_QUERY_VALUES,
    MAX_VALUE_LENGTH,
    MAX_VALUES_PER_FACET,
    SEED_MAX,
    SEED_MIN,
    UNIQUE_MODES,
    FacetQuery,
)

_CONTROL_PARAMS = ("limit", "unique", "seed")
# ASCII digits only: str.isdigit() and \d also accept '²' or '٣', which int() rejects or reads unexpectedly.
_YEAR = re.compile(r"[0-9]{4}")
# Digits enough for any 64-bit integer; longer ones are refused before int() spends time on them.
_INTEGER = re.compile(r"-?[0-9]{1,19}")


class QueryError(ValueError):
    """A query parameter is unknown or malformed; the message is safe to show to the user."""


def _facet_values(facet: str, raw: Iterable[object]) -> tuple[str, ...]:
    values: dict[str, None] = {}  # ordered, and de-duplicated in linear time
    for item in raw:
        if not isinstance(item, str):
            raise QueryError(f"{facet}: values must be strings")
        value = item.strip()
        if not value:
            raise QueryError(f"{facet}: empty value")
        if len(value) > MAX_VALUE_LENGTH:
            raise QueryError(f"{facet}: a value has at most {MAX_VALUE_LENGTH} characters")
        if facet in ("year", "decade") and not _YEAR.fullmatch(value):
            raise QueryError(f"{facet}: {value!r} is not a 4-digit year")
        if facet == "decade" and int(value) % 10:
            raise QueryError(f"decade: {value!r} is not a multiple of 10")
        values[value] = None
        if len(values) > MAX_VALUES_PER_FACET:
            raise QueryError(f"{facet}: at most {MAX_VALUES_PER_FACET} values")
    return tuple(values)


def _shown(raw: object) -> str:
    """A bad value as an error message quotes it: cut short, so a huge one is not sent back whole."""
    text = repr(raw)
    return text if len(text) <= 40 else text[:40] + "..."


def parse_int(name: str, raw: object, low: int, high: int) -> int:
    """An integer in [low, high] from a JSON number or a decimal string (ASCII digits, optional minus sign)."""
    # bool is an int subclass; true/false in JSON is not a number here.
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        value = int(raw)
    else:
        raise QueryError(f"{name}: {_shown(raw)} is not an integer")
    if not low <= value <= high:
        raise QueryError(f"{name}: must be between {low} and {high}")
    return value


def _unique(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in UNIQUE_MODES:
        raise QueryError(f"unique: {_shown(raw)} is not one of {', '.join(UNIQUE_MODES)}")
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
        named = ", ".join(name if len(name) <= 40 else name[:40] + "..." for name in unknown[:5])
        named += ", ..." if len(unknown) > 5 else ""
        raise QueryError(f"unknown parameter(s): {named}; facets are {', '.join(FACETS)}")
    values = {facet: _facet_values(facet, raw) for facet, raw in facets.items()}
    if sum(map(len, values.values())) > MAX_QUERY_VALUES:
        raise QueryError(f"a query has at most {MAX_QUERY_VALUES} values in all")
    return FacetQuery(
        facets={facet: values[facet] for facet in FACETS if values.get(facet)},
        limit=parse_int("limit", limit, 1, max_limit),
        unique=_unique(unique),
        seed=None if seed is None or seed == "" else parse_int("seed", seed, SEED_MIN, SEED_MAX),
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
