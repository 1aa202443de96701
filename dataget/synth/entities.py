"""Synthetic `<artist>` and `<label>` records (2026-era shape), one XML line each.

Names never change between revisions (releases print them); mutations touch profile, urls, name variations,
contact info or data quality instead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from dataget.synth import vocab as V
from dataget.synth.plan import Entity, Plan, mix
from dataget.synth.text import Names, esc, free_text, one, other, words


@dataclass
class Profile:
    """The mutable part of an artist or label."""

    profile: str
    data_quality: str
    urls: list[str]
    extra: list[str]  # artist name variations / label contact info lines


class EntitySynth:
    def __init__(self, plan: Plan, names: Names) -> None:
        self.plan = plan
        self.names = names

    def _profile(self, entity: Entity, slot: int, name: str) -> tuple[Profile, random.Random]:
        rng = random.Random(mix(self.plan.seed, entity, slot, 0))
        rand = rng.random
        year = 1950 + int(rand() * 75)
        text = ""
        if rand() < 0.5:
            other_artist = self.names.artist(self.plan.pick(Entity.ARTIST, rand()))
            other_label = self.names.label(self.plan.pick(Entity.LABEL, rand()))
            templates = V.ARTIST_PROFILES if entity is Entity.ARTIST else V.LABEL_PROFILES
            text = free_text(rand, templates, artist=other_artist, label=other_label, year=year, n=slot + 1)
        slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum()) or "x"
        urls = [f"https://www.{slug}.com/", f"https://www.facebook.com/{slug}", f"https://{slug}.bandcamp.com"]
        return Profile(text, V.DATA_QUALITY.pick(rand), urls[: int(rand() * 4 * rand())], []), rng

    def _mutate(self, entity: Entity, slot: int, p: Profile, changes: tuple[int, ...], extra_pool: str) -> None:
        for rev in changes:
            rand = random.Random(mix(self.plan.seed, entity, slot, 2000 + rev)).random
            kind = int(rand() * 4)
            if kind == 0:
                p.profile = (p.profile + "\r\n" if p.profile else "") + f"Updated {words(rand, 3)}."
            elif kind == 1:
                p.urls.append(f"https://{words(rand, 1).lower()}.example.org/{rev}")
            elif kind == 2:
                p.extra.append(f"{extra_pool} {words(rand, 1)} {rev}")
            else:
                p.data_quality = other(rand, V.DATA_QUALITY.values, p.data_quality)

    def artist(self, slot: int, changes: tuple[int, ...]) -> str:
        plan, names = self.plan, self.names
        name = names.artist(slot)
        p, rng = self._profile(Entity.ARTIST, slot, name)
        rand = rng.random
        realname = ""
        if rand() < 0.3:
            realname = f"{one(rand, V.FIRST_NAMES)} {one(rand, V.LAST_NAMES)}"
        for _ in range(int(rand() * 6 * rand())):
            variant = name.upper() if rand() < 0.3 else name.split(" (")[0].replace("The ", "")
            if variant != name and variant not in p.extra:
                p.extra.append(variant)
        self._mutate(Entity.ARTIST, slot, p, changes, name)
        out = [f"<artist><id>{plan.id(Entity.ARTIST, slot)}</id><name>{esc(name)}</name>"]
        if realname:
            out.append(f"<realname>{esc(realname)}</realname>")
        if p.profile:
            out.append(f"<profile>{esc(p.profile)}</profile>")
        out.append(f"<data_quality>{esc(p.data_quality)}</data_quality>")
        out.append(_list("urls", "url", p.urls))
        out.append(_list("namevariations", "name", p.extra))
        alias = plan.alias_of(slot)
        out.append(self._links("aliases", "name", Entity.ARTIST, [] if alias is None else [alias]))
        out.append(self._links("members", "name", Entity.ARTIST, plan.members(slot)))
        group = plan.group_of(slot)
        out.append(self._links("groups", "name", Entity.ARTIST, [] if group is None else [group]))
        out.append("</artist>")
        return "".join(out)

    def label(self, slot: int, changes: tuple[int, ...]) -> str:
        plan, names = self.plan, self.names
        name = names.label(slot)
        p, rng = self._profile(Entity.LABEL, slot, name)
        if rng.random() < 0.2:
            p.extra = [f"{1 + int(rng.random() * 900)} {one(rng.random, V.WORDS)} Street", "U.S.A."]
        self._mutate(Entity.LABEL, slot, p, changes, "P.O. Box")
        out = [f"<label><id>{plan.id(Entity.LABEL, slot)}</id><name>{esc(name)}</name>"]
        if p.extra:
            out.append("<contactinfo>" + esc("\r\n".join(p.extra)) + "</contactinfo>")
        if p.profile:
            out.append(f"<profile>{esc(p.profile)}</profile>")
        out.append(f"<data_quality>{esc(p.data_quality)}</data_quality>")
        parent = plan.parent_label(slot)
        if parent is not None:
            out.append(f'<parentLabel id="{plan.id(Entity.LABEL, parent)}">{esc(names.label(parent))}</parentLabel>')
        out.append(_list("urls", "url", p.urls))
        out.append(self._links("sublabels", "label", Entity.LABEL, plan.sublabels(slot)))
        out.append("</label>")
        return "".join(out)

    def _links(self, outer: str, inner: str, entity: Entity, slots: list[int]) -> str:
        if not slots:
            return ""
        name = self.names.artist if entity is Entity.ARTIST else self.names.label
        body = "".join(f'<{inner} id="{self.plan.id(entity, s)}">{esc(name(s))}</{inner}>' for s in slots)
        return f"<{outer}>{body}</{outer}>"


def _list(outer: str, inner: str, values: list[str]) -> str:
    if not values:
        return ""
    return f"<{outer}>" + "".join(f"<{inner}>{esc(v)}</{inner}>" for v in values) + f"</{outer}>"
