"""Pre-rendered XML fragments that releases draw from (track titles, credits, identifiers, companies…).

Drawing a ready fragment costs one `random()` instead of a dozen, which is what makes ~20k releases/s possible
in pure Python. Pools are built once per dump set from (seed, revision-0 size), so they are identical in every
revision, and they only reference "plain" artists/labels, which exist in every revision.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from dataget.synth import vocab as V
from dataget.synth.plan import Entity, Plan, mix
from dataget.synth.text import Names, Rand, attr, credit, decade_year, esc, one, title, video_id, words

MAX_POOL = 1 << 14  # fragments per pool
_POOL_TAG = 3  # mix() tag of the pool RNG, distinct from per-record tags


class Pools:
    def __init__(self, plan: Plan, names: Names) -> None:
        self.plan = plan
        self.names = names
        size = min(MAX_POOL, max(1024, plan.releases // 2))
        rng = random.Random(mix(plan.seed, Entity.RELEASE, plan.releases, _POOL_TAG))
        rand = rng.random

        def build(make: Callable[[Rand], str]) -> tuple[str, ...]:
            return tuple(make(rand) for _ in range(size))

        self.titles = build(lambda r: esc(title(r)))
        self.credits = build(lambda r: self._extra_credit(r, on_release=True))
        # Everything of a track after its position; compilations credit an artist on every track.
        self.track_tails = build(lambda r: self._track_tail(r, compilation=False))
        self.compilation_tails = build(lambda r: self._track_tail(r, compilation=True))
        self.video_descriptions = build(self._video_description)
        self.identifiers = build(self._identifier)
        self.companies = build(self._company)

    def _extra_credit(self, rand: Rand, *, on_release: bool) -> str:
        """An extraartists credit; only release-level ones say which tracks they apply to."""
        if rand() < 0.03:  # unlinked free-text credit: no <id>
            return credit(self.names, None, name=words(rand, 2), role=V.ROLES.pick(rand))
        slot = self.plan.pick(Entity.ARTIST, rand())
        anv = self.names.artist(slot).split(" ")[-1] if rand() < 0.08 else ""
        tracks = "A1 to B2" if on_release and rand() < 0.1 else ""
        return credit(self.names, slot, anv=anv, role=V.ROLES.pick(rand), tracks=tracks)

    def _track_tail(self, rand: Rand, *, compilation: bool) -> str:
        parts = [f"<title>{esc(title(rand))}</title>"]
        if rand() < 0.85:
            parts.append(f"<duration>{1 + int(rand() * 8)}:{int(rand() * 60):02d}</duration>")
        if compilation:
            parts.append(f"<artists>{credit(self.names, self.plan.pick(Entity.ARTIST, rand()))}</artists>")
        if rand() < 0.2:
            credits = [self._extra_credit(rand, on_release=False) for _ in range(1 + int(rand() * 2))]
            parts.append(f"<extraartists>{''.join(credits)}</extraartists>")
        parts.append("</track>")
        return "".join(parts)

    def _video_description(self, rand: Rand) -> str:
        if rand() < 0.2:  # 2025+: absent rather than empty
            return ""
        artist = self.names.artist(self.plan.pick(Entity.ARTIST, rand()))
        label = self.names.label(self.plan.pick(Entity.LABEL, rand()))
        text = one(rand, V.VIDEO_DESCRIPTIONS).format(a=artist, t=title(rand), l=label, y=decade_year(rand),
                                                      w=words(rand, 1).lower())
        return f"<description>{esc(text)}</description>"

    def video(self, rng: random.Random, artist: str, vid: str | None = None) -> tuple[str, str]:
        """(YouTube id, `<video>` element) of a video of `artist` (raw name): a new random one, or `vid`."""
        rand = rng.random
        vid = video_id(rng) if vid is None else vid
        size = len(self.titles)
        duration = 0 if rand() < 0.03 else 60 + int(rand() * 420)
        return vid, (f'<video src="https://www.youtube.com/watch?v={vid}" duration="{duration}" embed="true">'
                     f"<title>{esc(artist)} - {self.titles[int(rand() * size)]}{one(rand, V.VIDEO_TITLE_SUFFIXES)}"
                     f"</title>{self.video_descriptions[int(rand() * size)]}</video>")

    @staticmethod
    def _identifier(rand: Rand) -> str:
        kind = V.IDENTIFIER_TYPES.pick(rand)
        if kind == "Barcode":
            value = "".join(str(int(rand() * 10)) for _ in range(13))
        elif kind == "Rights Society":
            value = one(rand, V.RIGHTS_SOCIETIES)
        elif kind == "Label Code":
            value = f"LC {int(rand() * 99999):05d}"
        else:
            value = f"{words(rand, 1).upper()} {int(rand() * 99999)} A{int(rand() * 9)}"
        desc = one(rand, V.IDENTIFIER_DESCRIPTIONS)
        return f"<identifier type={attr(kind)} description={attr(desc)} value={attr(value)}/>"

    def _company(self, rand: Rand) -> str:
        slot = self.plan.pick(Entity.LABEL, rand())
        code, kind = V.COMPANY_TYPES[int(rand() * len(V.COMPANY_TYPES))]
        catno = f"<catno>{esc(self.names.catno(rand, slot))}</catno>" if rand() < 0.15 else ""
        return (f"<company><id>{self.plan.id(Entity.LABEL, slot)}</id><name>{esc(self.names.label(slot))}</name>"
                f"{catno}<entity_type>{code}</entity_type><entity_type_name>{esc(kind)}</entity_type_name></company>")


def draw(rand: Rand, pool: tuple[str, ...], n: int) -> str:
    size = len(pool)
    return "".join([pool[int(rand() * size)] for _ in range(n)])
