"""Synthetic `<release>` and `<master>` records (2026-era shape), one XML line each.

A record is first drawn as a `Draft` (mutable fields + pre-rendered static fragments) from an RNG seeded by
(seed, entity, slot). With a `DiscogsPlan`, what a query can see (master, videos, artists, labels, genres, styles,
formats, year, country) is the record's facts from dataget/synth/shape.py; the RNG only decorates them. Each
revision in which the plan says the record changed then applies one mutation with an RNG seeded by that revision,
so a record that did not change in a revision is byte-identical to the previous one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from dataget.synth import vocab as V
from dataget.synth.plan import NOT_ON_LABEL, VARIOUS, Entity, Plan, geometric, mix
from dataget.synth.pools import Pools, draw
from dataget.synth.shape import DiscogsPlan, MasterFacts, ReleaseFacts, Shape
from dataget.synth.text import (
    Names,
    Rand,
    attr,
    credit,
    decade_year,
    esc,
    free_text,
    one,
    other,
    title,
    words,
    youtube_id,
)

HUGE_SHARE = 0.01  # releases with hundreds of tracks
VIDEO_SHARE = 0.80  # releases with 1-6 videos
SHARED_VIDEO_SHARE = 0.15  # releases of a master that repeat one of the master's videos (~3 % of all videos)


@dataclass(frozen=True)
class Core:
    """What a master and all its releases agree on."""

    title: str
    artists: tuple[tuple[int, str], ...]  # (artist slot, join)
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    year: int
    compilation: bool
    videos: tuple[tuple[str, str], ...] = ()


@dataclass
class Draft:
    """The fields of a record that revisions edit."""

    title: str
    genres: list[str]
    styles: list[str]
    data_quality: str
    videos: list[tuple[str, str]]  # (YouTube id, <video> element)
    artist: str  # raw name of the first artist, for new video titles


class ReleaseSynth:
    def __init__(self, plan: Plan, names: Names) -> None:
        self.plan = plan
        self.names = names
        self.core = lru_cache(maxsize=1 << 14)(self._master_core)
        self.various = plan.special_slot(Entity.ARTIST, VARIOUS)
        self.not_on_label = plan.special_slot(Entity.LABEL, NOT_ON_LABEL)
        self.pools = Pools(plan, names)
        self.shape = Shape(plan) if isinstance(plan, DiscogsPlan) else None

    # --- shared core ------------------------------------------------------------------------------------
    def _core(self, rng: random.Random) -> Core:
        rand = rng.random
        compilation = self.various is not None and rand() < 0.07
        if compilation and self.various is not None:
            artists: tuple[tuple[int, str], ...] = ((self.various, ""),)
        else:
            n = 1 if rand() < 0.85 else 2 + int(rand() * 2)
            artists = tuple((self.plan.pick(Entity.ARTIST, rand()), V.JOINS.pick(rand) if i < n - 1 else "")
                            for i in range(n))
        genres = [V.GENRES.pick(rand)]
        if rand() < 0.25:
            second = V.GENRES.pick(rand)
            if second not in genres:
                genres.append(second)
        styles: list[str] = []
        for _ in range(int(rand() * 3.3)):
            style = one(rand, V.STYLES[one(rand, tuple(genres))])
            if style not in styles:
                styles.append(style)
        return Core(title(rand), artists, tuple(genres), tuple(styles), decade_year(rand), compilation)

    def _facts_core(self, facts: MasterFacts | ReleaseFacts, rng: random.Random, videos: tuple[int, ...]) -> Core:
        """The Core of a master's or a master-less release's facts; joins and title come from rng."""
        rand = rng.random
        last = len(facts.artists) - 1
        artists = tuple((a, V.JOINS.pick(rand) if i < last else "") for i, a in enumerate(facts.artists))
        artist = self.names.artist(facts.artists[0])
        compilation = facts.artists == (self.various,)
        return Core(title(rand), artists, facts.genres, facts.styles, facts.year or 0, compilation,
                    tuple(self._video_of(key, artist) for key in videos))

    def _video_of(self, key: int, artist: str) -> tuple[str, str]:
        """The video of a facts key: the same element wherever it is listed."""
        return self.pools.video(random.Random(key), artist, youtube_id(key))

    def _master_core(self, master: int) -> Core:
        rng = random.Random(mix(self.plan.seed, Entity.MASTER, master, 0))
        if self.shape is not None:
            return self._facts_core(self.shape.master(master), rng, self.shape.master_videos(master))
        core = self._core(rng)
        vids: list[tuple[str, str]] = []
        if rng.random() < 0.5:
            artist = self.names.artist(core.artists[0][0])
            for _ in range(1 + int(rng.random() * 4)):
                vids.append(self.pools.video(rng, artist))
        return Core(core.title, core.artists, core.genres, core.styles, core.year, core.compilation, tuple(vids))

    # --- releases ---------------------------------------------------------------------------------------
    def release(self, slot: int, changes: tuple[int, ...]) -> str:
        plan = self.plan
        rng = random.Random(mix(plan.seed, Entity.RELEASE, slot, 0))
        rand = rng.random
        found = plan.release_master(slot)
        facts = self.shape.release(slot) if self.shape is not None else None
        if found:
            core = self.core(found[0])
        else:
            core = self._core(rng) if facts is None else self._facts_core(facts, rng, ())
        year: int | None
        if facts is not None:
            year = facts.year
        else:
            year = core.year if found is None or found[1] else min(2026, core.year + geometric(rand(), 6))
        artist = self.names.artist(core.artists[0][0])
        labels, label = self._labels(rand) if facts is None else self._label_list(rand, facts.labels)
        d = Draft(core.title, list(core.genres), list(core.styles), V.DATA_QUALITY.pick(rand), [], artist)
        fmt = V.FORMAT_NAMES.pick(rand) if facts is None else facts.formats[0]
        qty = "1" if rand() < 0.85 else str(2 + int(rand() * 2))
        artists = "".join([credit(self.names, a, join=j) for a, j in core.artists])
        series = self._series(rand) if rand() < 0.03 else ""
        extraartists = self._extraartists(rand, geometric(rand(), 1.5))
        names = (fmt,) if facts is None else facts.formats
        formats = "<formats>" + "".join([self._format(rand, name, qty) for name in names]) + "</formats>"
        if facts is None:
            country = f"<country>{esc(V.COUNTRIES.pick(rand))}</country>" if rand() < 0.97 else ""
            released = self._released(rand, core.year if year is None else year)
        else:
            country = f"<country>{esc(facts.country)}</country>" if facts.country else ""
            released = self._released(rand, year, always=True) if year else ""
        notes = ""
        if rand() < 0.35:
            text = free_text(rand, V.NOTES, artist=artist, label=label, year=year or decade_year(rand), n=slot)
            notes = f"<notes>{esc(text)}</notes>"
        master_id = plan.id(Entity.MASTER, found[0]) if found else 0
        main = "true" if found and found[1] else "false"
        tracklist = self._tracklist(rand, fmt, qty, core.compilation)
        identifiers = self._identifiers(rand)
        companies = self._companies(rand)
        if facts is not None:
            d.videos = [self._video_of(key, artist) for key in facts.videos]
        elif rand() < VIDEO_SHARE:
            for _ in range(1 + min(5, geometric(rand(), 1.3))):
                self._add_video(d, rng)
        if facts is None and core.videos and rand() < SHARED_VIDEO_SHARE:
            shared = core.videos[int(rand() * len(core.videos))]
            if all(v[0] != shared[0] for v in d.videos):
                d.videos.insert(int(rand() * (len(d.videos) + 1)), shared)
        for rev in changes:
            self._mutate(d, random.Random(mix(plan.seed, Entity.RELEASE, slot, 2000 + rev)))
        return (f'<release id="{plan.id(Entity.RELEASE, slot)}"><artists>{artists}</artists>'
                f"<title>{esc(d.title)}</title>{labels}{series}{extraartists}{formats}{_genres(d)}{country}"
                f"{released}{notes}<data_quality>{esc(d.data_quality)}</data_quality>"
                f'<master_id is_main_release="{main}">{master_id}</master_id>{tracklist}{identifiers}{_videos(d)}'
                f"{companies}</release>")

    def master(self, slot: int, changes: tuple[int, ...]) -> str:
        plan = self.plan
        core = self.core(slot)
        rng = random.Random(mix(plan.seed, Entity.MASTER, slot, 1))
        rand = rng.random
        artist = self.names.artist(core.artists[0][0])
        d = Draft(core.title, list(core.genres), list(core.styles), V.DATA_QUALITY.pick(rand), list(core.videos),
                  artist)
        credits = list(core.artists)
        if rand() < 0.5:  # 2025+ masters often end with a dangling "," join
            credits[-1] = (credits[-1][0], ",")
        notes = f"<notes>{esc(words(rand, 2).lower())}</notes>" if rand() < 0.05 else ""
        for rev in changes:
            self._mutate(d, random.Random(mix(plan.seed, Entity.MASTER, slot, 2000 + rev)))
        main = plan.id(Entity.RELEASE, plan.main_release_slot(slot))
        return (f'<master id="{plan.id(Entity.MASTER, slot)}"><main_release>{main}</main_release>'
                f'<artists>{"".join(credit(self.names, a, join=j) for a, j in credits)}</artists>'
                f"{_genres(d)}{notes}<year>{core.year}</year><title>{esc(d.title)}</title>"
                f"<data_quality>{esc(d.data_quality)}</data_quality>{_videos(d)}</master>")

    # --- pieces -----------------------------------------------------------------------------------------
    def _labels(self, rand: Rand) -> tuple[str, str]:
        if self.not_on_label is not None and rand() < 0.05:
            return self._label_list(rand, (self.not_on_label,))
        count = 1 if rand() < 0.9 else 2
        return self._label_list(rand, tuple(self.plan.pick(Entity.LABEL, rand()) for _ in range(count)))

    def _label_list(self, rand: Rand, slots: tuple[int, ...]) -> tuple[str, str]:
        """(`<labels>` element, first label's name) of label slots."""
        parts = []
        for s in slots:
            name, ident = self.names.label_attrs(s)
            catno = "none" if s == self.not_on_label else self.names.catno(rand, s)  # catno: [A-Z0-9 -]
            parts.append(f'<label name={name} catno="{catno}" id={ident}/>')
        return "<labels>" + "".join(parts) + "</labels>", self.names.label(slots[0])

    def _series(self, rand: Rand) -> str:
        name, ident = self.names.label_attrs(self.plan.pick(Entity.LABEL, rand()))
        return f'<series><series name={name} catno="{1 + int(rand() * 60)}" id={ident}/></series>'

    def _extraartists(self, rand: Rand, n: int) -> str:
        return f"<extraartists>{draw(rand, self.pools.credits, n)}</extraartists>" if n else ""

    @staticmethod
    def _format(rand: Rand, name: str, qty: str) -> str:
        """One `<format>`; a format the vocabulary has no descriptions for gets none."""
        pool = V.FORMATS[name][1] if name in V.FORMATS else ()
        descs: list[str] = []
        for _ in range(int(rand() * 3.5) if pool else 0):
            desc = one(rand, pool)
            if desc not in descs:
                descs.append(desc)
        text = "" if rand() < 0.9 else one(rand, ("Transparent Blue", "Gatefold", "180g", "Red"))
        head = f"<format name={attr(name)} qty=\"{qty}\" text={attr(text)}"
        if not descs:
            return f"{head}/>"
        body = "".join(f"<description>{esc(x)}</description>" for x in descs)
        return f"{head}><descriptions>{body}</descriptions></format>"

    @staticmethod
    def _released(rand: Rand, year: int, always: bool = False) -> str:
        u = rand()
        if u < 0.05 and not always:
            return ""
        if u < 0.25:
            value = str(year)
        elif u < 0.35:
            value = f"{year}-00-00"
        elif u < 0.45:
            value = f"{year}-{1 + int(rand() * 12):02d}-00"
        else:
            value = f"{year}-{1 + int(rand() * 12):02d}-{1 + int(rand() * 28):02d}"
        return f"<released>{value}</released>"

    def _tracklist(self, rand: Rand, fmt: str, qty: str, compilation: bool) -> str:
        u = rand()
        n = 100 + int(rand() * 500) if u < HUGE_SHARE else 1 + int(rand() * 5) if u < 0.2 else 8 + int(rand() * 7)
        p = self.pools
        tails = p.compilation_tails if compilation else p.track_tails
        size = len(tails)
        parts = ["<tracklist>"]
        if rand() < 0.03:  # a heading: no position, no duration
            parts.append(f"<track><title>{'Side A' if fmt == 'Vinyl' else 'Part 1'}</title></track>")
        index_at = int(rand() * n) if rand() < 0.02 else -1
        for i, pos in enumerate(_positions(fmt, int(qty), n, u < HUGE_SHARE)):
            if i == index_at:  # an index track: no position, its parts in <sub_tracks>
                subs = "".join([f"<track><position>{pos}.{k}</position><title>{p.titles[int(rand() * size)]}</title>"
                                "</track>" for k in range(1, 2 + int(rand() * 4))])
                parts.append(f"<track><title>Medley</title><sub_tracks>{subs}</sub_tracks></track>")
            else:
                parts.append(f"<track><position>{pos}</position>{tails[int(rand() * size)]}")
        parts.append("</tracklist>")
        return "".join(parts)

    def _identifiers(self, rand: Rand) -> str:
        n = int(rand() * 4.5)
        return f"<identifiers>{draw(rand, self.pools.identifiers, n)}</identifiers>" if n else ""

    def _companies(self, rand: Rand) -> str:
        n = int(rand() * 4)
        return f"<companies>{draw(rand, self.pools.companies, n)}</companies>" if n else ""

    # --- revisions --------------------------------------------------------------------------------------
    def _add_video(self, d: Draft, rng: random.Random) -> None:
        vid = self.pools.video(rng, d.artist)
        if all(v[0] != vid[0] for v in d.videos):  # ids are unique per release
            d.videos.append(vid)

    def _mutate(self, d: Draft, rng: random.Random) -> None:
        """One edit, as a Discogs user would make it; always changes the rendered record."""
        rand = rng.random
        kind = int(rand() * 5)
        if kind == 0:
            d.title = d.title + " (Remastered)" if rand() < 0.5 else title(rand) + " " + d.title
        elif kind == 1 or (kind == 2 and not d.videos):
            before = len(d.videos)
            while len(d.videos) == before:
                self._add_video(d, rng)
        elif kind == 2:
            d.videos.pop(int(rand() * len(d.videos)))
        elif kind == 3:
            d.genres[0] = other(rand, V.GENRES.values, d.genres[0])
            d.genres = list(dict.fromkeys(d.genres))
        else:
            d.data_quality = other(rand, V.DATA_QUALITY.values, d.data_quality)


def _genres(d: Draft) -> str:
    out = "<genres>" + "".join(f"<genre>{esc(g)}</genre>" for g in d.genres) + "</genres>"
    if d.styles:
        out += "<styles>" + "".join(f"<style>{esc(s)}</style>" for s in d.styles) + "</styles>"
    return out


def _videos(d: Draft) -> str:
    return "<videos>" + "".join(v[1] for v in d.videos) + "</videos>" if d.videos else ""


@lru_cache(maxsize=4096)
def _positions(fmt: str, qty: int, n: int, huge: bool) -> tuple[str, ...]:
    if huge or (fmt in ("CD", "Box Set") and qty > 1):
        per = max(1, -(-n // max(qty, n // 20 if huge else qty)))
        return tuple(f"{i // per + 1}-{i % per + 1}" for i in range(n))
    if fmt in ("Vinyl", "Cassette", "Shellac"):
        sides = max(2, 2 * qty)
        per = max(1, -(-n // sides))
        return tuple(f"{chr(65 + i // per)}{i % per + 1}" for i in range(n))
    return tuple(str(i + 1) for i in range(n))
