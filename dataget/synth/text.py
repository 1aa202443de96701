"""Text pieces shared by the synthetic record builders: escaping, names, artist credits, free text."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import lru_cache
from xml.sax.saxutils import escape

from dataget.synth import vocab as V
from dataget.synth.plan import Entity, Plan, mix

YOUTUBE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ATTR_SPECIAL = re.compile('[&<>"\r\n\t]')
_ATTR_ENTITIES = {'"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}

Rand = Callable[[], float]


def esc(text: str) -> str:
    # Most text needs no escaping; testing first is several times faster than always escaping.
    if "&" in text or "<" in text or ">" in text:
        text = escape(text)
    return text.replace("\r", "&#13;") if "\r" in text else text


def attr(text: str) -> str:
    """A double-quoted attribute value, as the dumps write them (quoteattr would switch to single quotes)."""
    if _ATTR_SPECIAL.search(text):
        text = escape(text, _ATTR_ENTITIES)
    return f'"{text}"'


def one(rand: Rand, values: tuple[str, ...]) -> str:
    return values[int(rand() * len(values))]


def words(rand: Rand, n: int) -> str:
    pool = V.WORDS
    size = len(pool)
    return " ".join([pool[int(rand() * size)] for _ in range(n)])


def title(rand: Rand) -> str:
    return words(rand, 1 + int(rand() * 3)) + one(rand, V.TITLE_SUFFIXES)


class Names:
    """Artist and label names: pure functions of (seed, slot), cached because releases repeat popular ones."""

    def __init__(self, plan: Plan, cache_size: int = 1 << 16) -> None:
        self.plan = plan
        self.artist = lru_cache(maxsize=cache_size)(self._artist)
        self.label = lru_cache(maxsize=cache_size)(self._label)
        self.artist_head = lru_cache(maxsize=cache_size)(self._artist_head)
        self.label_attrs = lru_cache(maxsize=cache_size)(self._label_attrs)
        self.catno_prefix = lru_cache(maxsize=cache_size)(self._catno_prefix)

    def _artist_head(self, slot: int) -> str:
        """`<id>…</id><name>…</name>` of a linked credit."""
        return f"<id>{self.plan.id(Entity.ARTIST, slot)}</id><name>{esc(self.artist(slot))}</name>"

    def _given_name(self, entity: Entity, slot: int) -> str | None:
        """A placeholder record's own name, else the unique name when the plan's names are unique; None: drawn."""
        special = self.plan.special_name(entity, slot)
        if special is not None or not self.plan.unique_names:
            return special
        return unique_name(entity, slot)

    def _artist(self, slot: int) -> str:
        given = self._given_name(Entity.ARTIST, slot)
        if given is not None:
            return given
        h = mix(self.plan.seed, Entity.ARTIST, slot, 7)
        w = V.WORDS
        kind = h % 10
        if slot < 400 and (h >> 8) % 4 == 0:
            name = V.FAMOUS[(h >> 12) % len(V.FAMOUS)]
        elif kind < 5 and not self.plan.is_group(slot):
            name = f"{V.FIRST_NAMES[(h >> 8) % len(V.FIRST_NAMES)]} {V.LAST_NAMES[(h >> 16) % len(V.LAST_NAMES)]}"
        elif kind < 7:
            name = f"The {w[(h >> 8) % len(w)]} {V.BAND_NOUNS[(h >> 16) % len(V.BAND_NOUNS)]}"
        elif kind < 9:
            name = f"{w[(h >> 8) % len(w)]}{w[(h >> 16) % len(w)].lower()}"
        else:
            name = f"DJ {w[(h >> 8) % len(w)]}"
        # Discogs disambiguates equal names with a numeric suffix.
        return f"{name} ({2 + (h >> 44) % 6})" if (h >> 40) % 8 == 0 else name

    def _label_attrs(self, slot: int) -> tuple[str, str]:
        """(quoted name, quoted id) for `<label name= catno= id=>`-style references."""
        return attr(self.label(slot)), f'"{self.plan.id(Entity.LABEL, slot)}"'

    def _label(self, slot: int) -> str:
        given = self._given_name(Entity.LABEL, slot)
        if given is not None:
            return given
        h = mix(self.plan.seed, Entity.LABEL, slot, 7)
        name = V.WORDS[(h >> 8) % len(V.WORDS)] + V.LABEL_SUFFIXES[(h >> 16) % len(V.LABEL_SUFFIXES)]
        return f"{name} ({2 + (h >> 44) % 4})" if (h >> 40) % 6 == 0 else name

    def _catno_prefix(self, slot: int) -> str:
        return "".join(c for c in self.label(slot) if c.isascii() and c.isupper())[:4] or "CAT"

    def catno(self, rand: Rand, label: int) -> str:
        prefix = self.catno_prefix(label)
        return f"{prefix} {int(rand() * 9000) + 100}" if rand() < 0.9 else f"{prefix}-{int(rand() * 90) + 1:03d}"


@lru_cache(maxsize=2)
def _name_bases(entity: Entity) -> tuple[str, ...]:
    """Distinct artist or label names from the vocabulary, in a fixed shuffled order (famous acts first)."""
    w = V.WORDS
    if entity is Entity.ARTIST:
        names = ([f"{a} {b}" for a in V.FIRST_NAMES for b in V.LAST_NAMES]
                 + [f"The {a} {n}" for a in w for n in V.BAND_NOUNS]
                 + [f"{a}{b.lower()}" for a in w for b in w if a != b]
                 + [f"{a} {b}" for a in w for b in w if a != b] + [f"DJ {a}" for a in w])
        head = list(V.FAMOUS)
    else:
        names = [f"{a}{s}" for a in w for s in V.LABEL_SUFFIXES] + [f"{a} {b}{s}" for a in w for b in w
                                                                  for s in V.LABEL_SUFFIXES if a != b]
        head = []
    tail = [name for name in dict.fromkeys(names) if name not in head]
    random.Random(int(entity)).shuffle(tail)
    return tuple(head + tail)


def unique_name(entity: Entity, slot: int) -> str:
    """A name no other slot has: the vocabulary's names in turn, then again with Discogs' " (2)", " (3)"… suffixes."""
    bases = _name_bases(entity)
    round_, index = divmod(slot, len(bases))
    return f"{bases[index]} ({round_ + 1})" if round_ else bases[index]


def credit(names: Names, slot: int | None, *, name: str | None = None, anv: str = "",
           join: str = "", role: str = "", tracks: str = "") -> str:
    """One ARTIST_CREDIT; slot None is an unlinked free-text credit (no <id>, 2025+ style)."""
    parts = ["<artist>", names.artist_head(slot) if slot is not None else f"<name>{esc(name or '')}</name>"]
    for tag, value in (("anv", anv), ("join", join), ("role", role), ("tracks", tracks)):
        if value:
            parts.append(f"<{tag}>{esc(value)}</{tag}>")
    parts.append("</artist>")
    return "".join(parts)


def video_id(rng: random.Random) -> str:
    bits = rng.getrandbits(66)
    return "".join([YOUTUBE_ALPHABET[(bits >> shift) & 63] for shift in range(0, 66, 6)])


def youtube_id(key: int) -> str:
    """The 11-character id of a 64-bit video key (one to one)."""
    return "".join([YOUTUBE_ALPHABET[(key >> shift) & 63] for shift in range(0, 66, 6)])


def decade_year(rand: Rand) -> int:
    """A year 1950-2026, weighted towards the 1990s-2010s like the catalogue."""
    return min(2026, int(V.DECADES.pick(rand)) + int(rand() * 10))


def free_text(rand: Rand, templates: tuple[str, ...], *, artist: str, label: str, year: int, n: int) -> str:
    """Notes/profiles with Discogs markup, escaped HTML and CR LF line breaks, like the real ones."""
    count = 1 + int(rand() * 2)
    lines = [one(rand, templates).format(a=artist, l=label, y=year, n=n, c=one(rand, V.COUNTRIES.values),
                                         w=words(rand, 1).replace(" ", "")) for _ in range(count)]
    return "\r\n".join(lines)


def other(rand: Rand, values: tuple[str, ...], current: str) -> str:
    """A value different from `current` (mutations must really change the record)."""
    choices = [v for v in values if v != current]
    return one(rand, tuple(choices)) if choices else current + " (2)"
