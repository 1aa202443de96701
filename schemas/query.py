"""The facet query model shared by the site, the index and the playlist jobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Order is the order the site shows the pickers in.
FACETS = ("genre", "style", "year", "decade", "country", "label", "artist", "format")
UNIQUE_MODES = ("master",)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Caps on one query: every value is a script argument and a key lookup on the index's one Redis core, and a
# facet rarely needs more than a handful of values.
MAX_VALUES_PER_FACET = 100
MAX_QUERY_VALUES = 200
MAX_VALUE_LENGTH = 300
# A seed is stored with a playlist job, so it must fit a signed 64-bit integer (BSON).
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True)
class FacetQuery:
    """Values of one facet are ORed, different facets are ANDed; no facet means every indexed release."""

    facets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    limit: int = DEFAULT_LIMIT
    # "master": each master counts once and contributes each video once.
    unique: str | None = None
    # With a seed the sample is reproducible (same index, same query, same seed -> same sample).
    seed: int | None = None


@dataclass(frozen=True)
class SampleVideo:
    video_id: str
    release_id: int
    title: str


@dataclass(frozen=True)
class QueryResult:
    releases: int
    videos: int
    sample: list[SampleVideo]
    # The index content that answered (what the index's generation names then): the ETag of a seeded answer.
    generation: str


@dataclass(frozen=True)
class FacetValue:
    value: str
    releases: int


class IndexFormatError(RuntimeError):
    """The index was built with an older key layout than the code reads: rebuild it with `dataget reindex`."""
