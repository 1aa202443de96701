"""The `discogs` profile's catalogue: the facts a query can see of every release, drawn to dataget/synth/profile.py.

`DiscogsPlan` is a `Plan` whose masters have the real size distribution and whose artists and labels are as many as
the real ratios give, Zipf-skewed; `Shape.release(slot)` gives a release's master, videos and facet values. The XML
synth renders these facts (`dataget synth --profile discogs`) and the benchmarks index them directly, so both see one
catalogue. Everything is a pure function of (seed, release count, slot), as in `Plan`.

Masters. The first MASTER_SHARE of the positions of a pseudo-random permutation of the release slots are cut into
masters of profile.master_size releases each; a master's first position is its main release. Its releases are thus
spread over the whole id range, as reissues are, rather than numbered next to each other. Releases added by revisions
are new single masters' main releases, reissues of multi masters (never removed) or releases without a master.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from dataget.synth import profile as P
from dataget.synth import vocab as V
from dataget.synth.plan import NOT_ON_LABEL, VARIOUS, Entity, Plan, mix, unit
from dataget.synth.text import Names, youtube_id

FEISTEL_ROUNDS = 4
_PERM_TAG = 4000  # mix() tags of the permutation's round keys
_FACTS_TAG = 50  # mix() tag of a record's facts RNG (the XML decoration uses others)
_VIDEO_TAG = 100  # mix() tags 100 + i: a release's own i-th video, a master's i-th pool video


class Permutation:
    """A bijection of [0, n): a balanced Feistel network over the next even number of bits, cycle-walked into
    range. Pure and O(1) memory, so any slot's position (and back) is computed on its own."""

    def __init__(self, seed: int, n: int) -> None:
        self.seed, self.n = seed, n
        half = max(1, ((n - 1).bit_length() + 1) // 2)
        self.half, self.mask = half, (1 << half) - 1

    def _round(self, i: int, x: int) -> int:
        return mix(self.seed, 0, x, _PERM_TAG + i) & self.mask

    def forward(self, x: int) -> int:
        while True:
            left, right = x >> self.half, x & self.mask
            for i in range(FEISTEL_ROUNDS):
                left, right = right, left ^ self._round(i, right)
            x = (left << self.half) | right
            if x < self.n:
                return x

    def inverse(self, x: int) -> int:
        while True:
            left, right = x >> self.half, x & self.mask
            for i in reversed(range(FEISTEL_ROUNDS)):
                left, right = right ^ self._round(i, left), left
            x = (left << self.half) | right
            if x < self.n:
                return x


@dataclass(frozen=True)
class MasterLayout:
    """Master j holds the permutation positions [starts[j], starts[j + 1]) of the revision-0 release slots."""

    permutation: Permutation
    starts: array[int]  # one more than there are masters: the last is the end of the last master

    @property
    def masters(self) -> int:
        return len(self.starts) - 1

    @property
    def in_masters(self) -> int:
        return self.starts[-1]

    def size(self, master: int) -> int:
        return self.starts[master + 1] - self.starts[master]

    def master_at(self, position: int) -> int:
        return bisect_right(self.starts, position) - 1


@lru_cache(maxsize=4)
def master_layout(seed: int, releases: int) -> MasterLayout:
    """Built once per process (a plan travels to every render chunk, so the layout must not live in it)."""
    total = max(1, round(releases * P.MASTER_SHARE))
    starts = array("q", [0])
    while starts[-1] < total:
        size = P.master_size(unit(seed, Entity.MASTER, len(starts) - 1, 8))
        starts.append(min(total, starts[-1] + size))
    return MasterLayout(Permutation(seed, releases), starts)


@dataclass(frozen=True)
class DiscogsPlan(Plan):
    """A Plan with the real catalogue's masters, artist and label counts and popularity skew."""

    unique_names = True  # real artist and label names are unique ("Name (2)"); facets are by name

    @property
    def layout(self) -> MasterLayout:
        return master_layout(self.seed, self.releases)

    @property
    def n_masters(self) -> int:
        return self.layout.masters

    @cached_property
    def _bases(self) -> dict[Entity, int]:
        return {Entity.RELEASE: self.releases, Entity.MASTER: self.n_masters,
                Entity.ARTIST: P.artist_count(self.releases), Entity.LABEL: P.label_count(self.releases)}

    def growth(self, entity: Entity) -> int:
        releases = max(1, round(self.releases * self.churn.new))
        if entity is Entity.RELEASE:
            return releases
        return min(releases, max(1, round(self.base(entity) * self.churn.new)))

    def popular(self, entity: Entity, u: float) -> int:
        return P.zipf_rank(u, self.base(entity), P.ARTIST_ZIPF if entity is Entity.ARTIST else P.LABEL_ZIPF)

    def multi(self, master: int) -> bool:
        return master < self.n_masters and self.layout.size(master) > 1

    def main_release_slot(self, master: int) -> int:
        layout = self.layout
        if master < layout.masters:
            return layout.permutation.inverse(layout.starts[master])
        grown, k = divmod(master - layout.masters, self.growth(Entity.MASTER))
        return self.releases + grown * self.growth(Entity.RELEASE) + k

    def release_master(self, slot: int) -> tuple[int, bool] | None:
        layout = self.layout
        if slot < self.releases:
            position = layout.permutation.forward(slot)
            if position >= layout.in_masters:
                return None
            master = layout.master_at(position)
            return master, position == layout.starts[master]
        grown, k = divmod(slot - self.releases, self.growth(Entity.RELEASE))
        if k < self.growth(Entity.MASTER):
            return layout.masters + grown * self.growth(Entity.MASTER) + k, True
        if unit(self.seed, Entity.RELEASE, slot, 3) >= P.MASTER_SHARE:
            return None
        # A reissue: its master drawn by size, as a random release in a master is.
        master = layout.master_at(int(unit(self.seed, Entity.RELEASE, slot, 4) * layout.in_masters))
        return (master, False) if self.multi(master) else None


@dataclass(frozen=True)
class MasterFacts:
    """What a master and all its releases agree on."""

    artists: tuple[int, ...]  # artist slots, in credit order
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    year: int | None
    compilation: bool
    pool: int  # videos its releases share: keys video_key(seed, MASTER, master, i) for i < pool
    videos: int  # the master's own <videos>: the first this many of the pool


@dataclass(frozen=True)
class ReleaseFacts:
    master: int | None  # master slot
    main: bool
    artists: tuple[int, ...]
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    year: int | None
    country: str | None
    labels: tuple[int, ...]  # label slots
    formats: tuple[str, ...]
    videos: tuple[int, ...]  # video keys (see youtube_id), the master's pool videos first
    shared: int  # how many of `videos` come from the master's pool


def video_key(seed: int, entity: Entity, slot: int, i: int) -> int:
    """The i-th video of a release's own or of a master's pool: 64 bits, so keys of 40M videos do not collide."""
    return mix(seed, entity, slot, _VIDEO_TAG + i)


class Shape:
    def __init__(self, plan: DiscogsPlan) -> None:
        self.plan = plan
        self.styles = P.styles_by_genre()
        self.various = plan.special_slot(Entity.ARTIST, VARIOUS)
        self.not_on_label = plan.special_slot(Entity.LABEL, NOT_ON_LABEL)
        self.master = lru_cache(maxsize=1 << 15)(self._master)

    # --- facet values ---------------------------------------------------------------------------------------------
    def _artists(self, rng: random.Random) -> tuple[tuple[int, ...], bool]:
        if self.various is not None and rng.random() < P.COMPILATION_SHARE:
            return (self.various,), True
        return self._distinct(Entity.ARTIST, P.ARTIST_COUNTS.pick(rng.random), rng), False

    def _distinct(self, entity: Entity, n: int, rng: random.Random) -> tuple[int, ...]:
        # Here and for genres and styles: a popular value drawn twice is drawn again, a few times at most.
        picked: dict[int, None] = {}
        for _ in range(4 * n):
            picked[self.plan.pick(entity, rng.random())] = None
            if len(picked) == n:
                break
        return tuple(picked)

    def _genres_styles(self, rng: random.Random) -> tuple[tuple[str, ...], tuple[str, ...]]:
        rand = rng.random
        genres: dict[str, None] = {}
        want = P.GENRE_COUNTS.pick(rand)
        for _ in range(4 * want):
            genres[P.GENRES.pick(rand)] = None
            if len(genres) == want:
                break
        chosen = tuple(genres)
        styles: dict[str, None] = {}
        want = P.STYLE_COUNTS.pick(rand)
        for _ in range(4 * want):
            pool = self.styles[chosen[int(rand() * len(chosen))]]
            styles[pool[P.zipf_rank(rand(), len(pool), P.STYLE_ZIPF)]] = None
            if len(styles) == want:
                break
        return chosen, tuple(styles)

    @staticmethod
    def _year(rand: random.Random) -> int | None:
        return None if rand.random() < P.NO_YEAR_SHARE else P.year(rand.random(), rand.random())

    # --- records --------------------------------------------------------------------------------------------------
    def _master(self, master: int) -> MasterFacts:
        plan = self.plan
        rng = random.Random(mix(plan.seed, Entity.MASTER, master, _FACTS_TAG))
        artists, compilation = self._artists(rng)
        genres, styles = self._genres_styles(rng)
        year = self._year(rng)
        own = P.MASTER_VIDEO_COUNTS.pick(rng.random)
        size = plan.layout.size(master) if master < plan.n_masters else 1
        return MasterFacts(artists, genres, styles, year, compilation, max(own, P.master_pool(size)), own)

    def master_videos(self, master: int) -> tuple[int, ...]:
        """Keys of the master's own videos."""
        return tuple(video_key(self.plan.seed, Entity.MASTER, master, i) for i in range(self.master(master).videos))

    def release(self, slot: int) -> ReleaseFacts:
        plan = self.plan
        seed = plan.seed
        rng = random.Random(mix(seed, Entity.RELEASE, slot, _FACTS_TAG))
        rand = rng.random
        found = plan.release_master(slot)
        if found is None:
            master, main = None, False
            artists, _ = self._artists(rng)
            genres, styles = self._genres_styles(rng)
            year = self._year(rng)
        else:
            master, main = found
            core = self.master(master)
            artists, genres, styles = core.artists, core.genres, core.styles
            year = core.year if main else self._year(rng)
        if self.not_on_label is not None and rand() < P.NOT_ON_LABEL_SHARE:
            labels: tuple[int, ...] = (self.not_on_label,)
        else:
            labels = self._distinct(Entity.LABEL, P.LABEL_COUNTS.pick(rand), rng)
        country = None if rand() < P.NO_COUNTRY_SHARE else P.COUNTRIES.pick(rand)
        formats = tuple(dict.fromkeys(P.FORMATS.pick(rand) for _ in range(P.FORMAT_COUNTS.pick(rand))))
        videos: tuple[int, ...] = ()
        shared = 0
        if rand() < (P.VIDEO_SHARE_NO_MASTER if master is None else P.VIDEO_SHARE_IN_MASTER):
            count = P.VIDEO_COUNTS.pick(rand)
            if master is not None:
                pool = self.master(master).pool
                shared = min(pool, sum(1 for _ in range(count) if rand() < P.POOL_VIDEO_SHARE))
                videos = tuple(video_key(seed, Entity.MASTER, master, i) for i in rng.sample(range(pool), shared))
            videos += tuple(video_key(seed, Entity.RELEASE, slot, i) for i in range(count - shared))
        return ReleaseFacts(master, main, artists, genres, styles, year, country, labels, formats, videos, shared)


class Catalogue:
    """The profile's releases and masters as the records the index reads (the fields of schemas.records it files),
    for benchmarks that index them without XML. Ids, names and videos are those `dataget synth --profile discogs`
    writes for the same seed and size; video titles are made up alike but not the same."""

    def __init__(self, seed: int, releases: int) -> None:
        self.plan = DiscogsPlan(seed=seed, releases=releases)
        self.shape = Shape(self.plan)
        self.names = Names(self.plan)

    @staticmethod
    def _video(key: int, artist: str) -> dict[str, str]:
        vid = youtube_id(key)
        words = V.WORDS
        # 1-3 words and a suffix from the key's bits: as long as the XML's titles, without seeding an RNG per video.
        name = " ".join(words[(key >> (8 * i + 8)) % len(words)] for i in range(1 + key % 3))
        suffix = V.VIDEO_TITLE_SUFFIXES[(key >> 40) % len(V.VIDEO_TITLE_SUFFIXES)]
        return {"src": f"https://www.youtube.com/watch?v={vid}", "youtube_id": vid,
                "title": f"{artist} - {name}{suffix}"}

    def release(self, slot: int) -> tuple[ReleaseFacts, dict[str, Any]]:
        """A release's facts and its record."""
        plan, names = self.plan, self.names
        facts = self.shape.release(slot)
        artist = names.artist(facts.artists[0])
        record = {
            "id": plan.id(Entity.RELEASE, slot),
            "artists": [{"name": names.artist(a)} for a in facts.artists],
            "labels": [{"name": names.label(label)} for label in facts.labels],
            "formats": [{"name": name} for name in facts.formats],
            "genres": list(facts.genres),
            "styles": list(facts.styles),
            "country": facts.country,
            "released": None if facts.year is None else str(facts.year),
            "master_id": None if facts.master is None else plan.id(Entity.MASTER, facts.master),
            "videos": [self._video(key, artist) for key in facts.videos],
        }
        return facts, record

    def master(self, master: int) -> dict[str, Any]:
        """A master's id and own videos."""
        artist = self.names.artist(self.shape.master(master).artists[0])
        return {"id": self.plan.id(Entity.MASTER, master),
                "videos": [self._video(key, artist) for key in self.shape.master_videos(master)]}
