"""The synthetic catalogues the index benchmarks index, with a query mix drawn from the same distributions, and
the build of an index from one.

The `discogs` profile's catalogue (dataget/synth/shape.py: what `dataget synth --profile discogs` writes, calibrated
to the real one) or the `classic` universe (1-4 videos per release). Value popularity is Zipf-skewed like Discogs'
(few huge genres, a long tail of labels and artists), and so is the query mix. Records go straight to
FacetIndex.apply_releases (no Kafka, no XML).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from redis.asyncio import Redis

from dataget.synth import profile as P
from dataget.synth.plan import Entity
from dataget.synth.shape import Catalogue, ReleaseFacts
from schemas.query import FacetQuery
from sinks.facet_index import FacetIndex
from sinks.set_packing import pack_sets

BATCH = 1000
FAMOUS, FAMOUS_SHARE = 100, 0.01


# What a universe generates for one release: (release id, the record the index reads, the facts it was drawn from,
# None in the classic universe).
Generated = tuple[int, dict[str, Any], ReleaseFacts | None]


def zipf_picker(values: list[str], rng: random.Random, s: float = 1.1) -> Callable[[], str]:
    weights = list(itertools.accumulate(1 / (rank**s) for rank in range(1, len(values) + 1)))
    return lambda: rng.choices(values, cum_weights=weights)[0]


class Universe:
    """The classic universe: value pools and Zipf pickers shared by the record generator and the query mix."""

    def __init__(self, releases: int, rng: random.Random) -> None:
        self.rng = rng
        self.pools = {
            "genre": ["Electronic", "Rock", "Pop", "Funk / Soul", "Jazz", "Hip Hop", "Folk, World, & Country",
                      "Classical", "Reggae", "Latin", "Stage & Screen", "Blues", "Non-Music", "Children's",
                      "Brass & Military"],
            "style": [f"Style {n}" for n in range(600)],
            "country": ["US", "UK", "Germany", "France", "Japan", "Italy", "Netherlands", "Canada"]
            + [f"Country {n}" for n in range(200)],
            "label": [f"Label {n}" for n in range(max(1000, releases // 8))],
            "artist": [f"Artist {n}" for n in range(max(1000, releases // 4))],
            "format": ["Vinyl", "CD", "File", "Cassette", "CDr", "Box Set", "DVD", "Shellac", "Flexi-disc", "VHS"],
            "year": [str(y) for y in range(2024, 1929, -1)],
        }
        # Discogs-like skew: one genre has ~30% of releases, the biggest label or artist only a few percent.
        exponents = {"label": 0.8, "artist": 0.8, "style": 1.0}
        self.pick = {name: zipf_picker(pool, rng, exponents.get(name, 1.1)) for name, pool in self.pools.items()}
        self.masters = max(1, releases // 3)
        # A few albums have thousands of versions (Discogs' biggest masters ~2,000 releases), all listing the
        # same videos: FAMOUS_SHARE of the releases go to FAMOUS masters, Zipf-skewed (the first gets ~1,900
        # releases at 1 M), so the index meets items with far more owners than ranks it keeps.
        famous = list(range(1, min(FAMOUS, self.masters) + 1))
        self.pick_famous = zipf_picker(famous, rng, 1.0)

    def values(self, facet: str, low: int, high: int) -> list[str]:
        return list({self.pick[facet]() for _ in range(self.rng.randint(low, high))})

    def release(self, rid: int) -> dict[str, Any]:
        rng = self.rng
        master = None
        if rng.random() < FAMOUS_SHARE:
            master = self.pick_famous()
        elif rng.random() < 0.6:
            master = rng.randrange(1, self.masters + 1)
        # Releases of one master draw from the master's own small pool of videos, so videos are shared.
        if master:
            videos = {f"m{master:09d}{rng.randrange(6):x}" for _ in range(rng.randint(1, 4))}
        else:
            videos = {f"r{rid:09d}{n:x}" for n in range(rng.randint(1, 4))}
        year = self.pick["year"]()
        return {
            "id": rid,
            "genres": self.values("genre", 1, 2),
            "styles": self.values("style", 0, 3),
            "released": f"{year}-00-00" if rng.random() < 0.9 else None,
            "country": self.pick["country"](),
            "labels": [{"name": n} for n in self.values("label", 1, 2)],
            "artists": [{"name": n} for n in self.values("artist", 1, 1)],
            "formats": [{"name": n} for n in self.values("format", 1, 2)],
            "master_id": master,
            "videos": [{"src": f"https://www.youtube.com/watch?v={v}", "youtube_id": v, "title": f"Title {v}"}
                       for v in sorted(videos)],
        }

    def query(self) -> FacetQuery:
        return mixed_query(self.rng, lambda name: self.pick[name]())

    def records(self, start: int, stop: int) -> list[Generated]:
        return [(rid, self.release(rid), None) for rid in range(start + 1, stop + 1)]

    def master_records(self) -> list[tuple[int, dict[str, Any]]]:
        return [(m, {"id": m, "videos": [{"src": "", "youtube_id": f"m{m:09d}{n:x}", "title": "master video"}
                                          for n in range(self.rng.randint(1, 3))]})
                for m in range(1, self.masters + 1, 3)]


class DiscogsUniverse:
    """The `discogs` profile's catalogue of `releases` releases, and a query mix drawn from the same distributions."""

    def __init__(self, releases: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.catalogue = Catalogue(seed, releases)
        self.styles = self.catalogue.shape.styles

    def value(self, facet: str) -> str:
        """A value of a facet, as popular as releases make it (labels and artists among this catalogue's)."""
        rand, plan, names = self.rng.random, self.catalogue.plan, self.catalogue.names
        if facet == "genre":
            return P.GENRES.pick(rand)
        if facet == "style":
            pool = self.styles[P.GENRES.pick(rand)]
            return pool[P.zipf_rank(rand(), len(pool), P.STYLE_ZIPF)]
        if facet == "country":
            return P.COUNTRIES.pick(rand)
        if facet == "format":
            return P.FORMATS.pick(rand)
        if facet == "year":
            return str(P.year(rand(), rand()))
        if facet == "label":
            return names.label(plan.pick(Entity.LABEL, rand()))
        return names.artist(plan.pick(Entity.ARTIST, rand()))

    def query(self) -> FacetQuery:
        return mixed_query(self.rng, self.value)

    def records(self, start: int, stop: int) -> list[Generated]:
        out: list[Generated] = []
        for slot in range(start, stop):
            facts, record = self.catalogue.release(slot)
            out.append((record["id"], record, facts))
        return out

    def master_records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for master in range(self.catalogue.plan.n_masters):
            record = self.catalogue.master(master)
            if record["videos"]:
                yield record["id"], record


PROFILES = ("discogs", "classic")


def make_universe(profile: str, releases: int, seed: int) -> Universe | DiscogsUniverse:
    if profile == "classic":
        return Universe(releases, random.Random(seed))
    return DiscogsUniverse(releases, seed)


def mixed_query(rng: random.Random, value: Callable[[str], str]) -> FacetQuery:
    """One query of the benchmark's mix: 1-4 facets (fewer more often), each with 1 or 2 values from `value`."""
    names = rng.sample(["genre", "style", "country", "decade", "year", "format", "label", "artist"],
                       rng.choices([1, 2, 3, 4], weights=[4, 3, 2, 1])[0])
    facets: dict[str, tuple[str, ...]] = {}
    for name in names:
        values = {value("year" if name == "decade" else name) for _ in range(rng.choices([1, 2], weights=[4, 1])[0])}
        if name == "decade":
            values = {str(int(v) // 10 * 10) for v in values}
        facets[name] = tuple(sorted(values))
    return FacetQuery(
        facets=facets,
        limit=50,
        unique="master" if rng.random() < 0.1 else None,
        seed=rng.randrange(1000) if rng.random() < 0.3 else None,
    )


def batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _catalogue_key(namespace: str) -> str:
    """Where a benchmark notes the catalogue it built an index from: under the index's namespace, so dropped with it."""
    return f"{namespace}:bench:catalogue"


def catalogue_name(profile: str, releases: int, seed: int) -> str:
    return f"{profile} {releases} {seed}"


async def reusable(redis: Redis, namespace: str, catalogue: str) -> bool:
    """Whether the index at namespace was built from `catalogue` (catalogue_name), so a --reuse run may keep it."""
    return await redis.get(_catalogue_key(namespace)) == catalogue.encode()


async def note_built(redis: Redis, namespace: str, catalogue: str) -> None:
    """Notes that the index at namespace now holds `catalogue` (catalogue_name), for a later run's `reusable`."""
    await redis.set(_catalogue_key(namespace), catalogue)


async def build(redis: Redis, index: FacetIndex, universe: Universe | DiscogsUniverse, releases: int,
                observe: Callable[[list[Generated]], None] | None = None) -> float:
    """Index the universe's first `releases` releases, then its masters' own videos, then pack the sets as the index
    workers do once a bulk build is done (sinks/set_packing.py); seconds taken. `observe` sees every batch before it
    is indexed."""
    started = time.perf_counter()
    for start in range(0, releases, BATCH):
        batch = universe.records(start, min(start + BATCH, releases))
        if observe is not None:
            observe(batch)
        await index.apply_releases([(rid, record) for rid, record, _ in batch])
        if (start // BATCH) % 50 == 0:
            print(f"  indexed {start + len(batch):,} releases", flush=True)
    for chunk in batches(universe.master_records(), BATCH):
        await index.apply_masters(chunk)
    await pack_sets(redis)
    return time.perf_counter() - started
