"""The skeleton of a synthetic dump set: which records exist, their ids, how they reference each other.

Everything is a pure function of (seed, base release count, slot index), so any record can be produced on its own,
in id order, with constant memory. A *slot* is the 0-based position of a record in its file at revision 0;
revisions append new slots at the end. Record ids grow with the slot (ascending, with gaps).

Invariants that keep every reference valid in every revision:
* Artists and labels in the "orphan" class (20 %) are never referenced by anything; only they are ever removed.
* Releases reference only masters of the "multi" class (60 %), which are never removed. A "single" master has
  only its main release, and the two disappear together.
* Masters j < M0 have their main release in the release block [4j, 4j+4); masters born later get the block
  `N + 4 (j - M0)`. Release growth per revision is 4x master growth so the blocks stay aligned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import ClassVar

MASK = (1 << 64) - 1


class Entity(IntEnum):
    RELEASE = 1
    MASTER = 2
    ARTIST = 3
    LABEL = 4


# id = STEP * slot + 1 + (hash % STEP): ascending with gaps, id/count ratios like the 2026 dumps.
STEP = {Entity.RELEASE: 2, Entity.MASTER: 2, Entity.ARTIST: 2, Entity.LABEL: 3}
# Placeholder records that real data refers to by id: (slot, id, name). Present only if the file reaches the slot.
VARIOUS = (96, 194, "Various")
NOT_ON_LABEL = (605, 1818, "Not On Label")
SPECIALS = {(Entity.ARTIST, VARIOUS[0]): VARIOUS, (Entity.LABEL, NOT_ON_LABEL[0]): NOT_ON_LABEL}

ORPHAN_SHARE = 0.20  # artists/labels nobody references (the only removable ones)
MULTI_SHARE = 0.60  # masters with several releases (never removed)
ATTACH_SHARE = 0.75  # non-main releases attached to a nearby multi master
# Removal probability per class when ~P_REMOVE_AT of each entity is to disappear (Churn.remove scales them): orphans
# 0.05 x 20 %, single masters 0.025 x 40 % (with their main release), non-main releases 0.01.
P_REMOVE_AT = 0.01
P_REMOVE = {Entity.ARTIST: 0.05, Entity.LABEL: 0.05, Entity.MASTER: 0.025, Entity.RELEASE: 0.01}
GROUP_BLOCK = 20  # artist slots k*20 may be groups whose members come from the same block


@dataclass(frozen=True)
class Churn:
    """What each revision does to every entity: `change` of its surviving records change, about `remove` of them
    disappear, and `new` times its revision-0 count are appended."""

    change: float = 0.02
    remove: float = 0.01
    new: float = 0.01


DEFAULT_CHURN = Churn()


def mix(seed: int, entity: int, slot: int, tag: int) -> int:
    """A stable 64-bit hash (Python's hash() is salted per process): a linear combination, then the
    splitmix64 finaliser. One round instead of one per part, because it runs a dozen times per release."""
    x = (seed * 0x9E3779B97F4A7C15 + entity * 0xD1B54A32D192ED03 + slot * 0xBF58476D1CE4E5B9
         + tag * 0x94D049BB133111EB) & MASK
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9 & MASK
    x = (x ^ (x >> 27)) * 0x94D049BB133111EB & MASK
    return x ^ (x >> 31)


def unit(seed: int, entity: int, slot: int, tag: int) -> float:
    return mix(seed, entity, slot, tag) / 18446744073709551616.0


@dataclass(frozen=True)
class Plan:
    seed: int
    releases: int
    revision: int = 0
    churn: Churn = DEFAULT_CHURN

    unique_names: ClassVar[bool] = False  # names repeat (the vocabulary is small); see text.Names

    # --- sizes ------------------------------------------------------------------------------------------
    @property
    def n_masters(self) -> int:
        return self.releases // 4

    @cached_property
    def _bases(self) -> dict[Entity, int]:
        return {Entity.RELEASE: self.releases, Entity.MASTER: self.n_masters,
                Entity.ARTIST: max(1, self.releases // 2), Entity.LABEL: max(1, self.releases // 8)}

    def base(self, entity: Entity) -> int:
        return self._bases[entity]

    def growth(self, entity: Entity) -> int:
        """Slots appended per revision."""
        if entity is Entity.MASTER and not self.n_masters:
            return 0  # under 4 releases: no masters, and none appear later (no block to hold a main release)
        if entity is Entity.RELEASE and self.n_masters:
            return 4 * self.growth(Entity.MASTER)
        return max(1, round(self.base(entity) * self.churn.new))

    def slots(self, entity: Entity) -> int:
        return self.base(entity) + self.revision * self.growth(entity)

    def birth(self, entity: Entity, slot: int) -> int:
        base = self.base(entity)
        return 0 if slot < base else 1 + (slot - base) // self.growth(entity)

    # --- ids --------------------------------------------------------------------------------------------
    def id(self, entity: Entity, slot: int) -> int:
        special = SPECIALS.get((entity, slot))
        if special is not None:
            return special[1]
        step = STEP[entity]
        return step * slot + 1 + mix(self.seed, entity, slot, 1) % step

    def special_name(self, entity: Entity, slot: int) -> str | None:
        special = SPECIALS.get((entity, slot))
        return None if special is None else special[2]

    def special_slot(self, entity: Entity, which: tuple[int, int, str]) -> int | None:
        """Slot of a placeholder record, if this dump set is big enough to hold it."""
        return which[0] if which[0] < self.base(entity) else None

    # --- classes ----------------------------------------------------------------------------------------
    def orphan(self, entity: Entity, slot: int) -> bool:
        # Slot 0 is never an orphan (always exists), so `pick` finds a target even in tiny sets.
        return slot != 0 and (entity, slot) not in SPECIALS and unit(self.seed, entity, slot, 2) < ORPHAN_SHARE

    def plain(self, entity: Entity, slot: int) -> bool:
        """Referencable by ordinary links: neither an orphan nor a placeholder such as "Various"."""
        return (entity, slot) not in SPECIALS and (slot == 0 or unit(self.seed, entity, slot, 2) >= ORPHAN_SHARE)

    def multi(self, master: int) -> bool:
        return unit(self.seed, Entity.MASTER, master, 2) < MULTI_SHARE

    def removable(self, entity: Entity, slot: int) -> bool:
        if entity is Entity.MASTER:
            return not self.multi(slot)
        if entity is Entity.RELEASE:
            found = self.release_master(slot)
            return found is None or not found[1]
        return self.orphan(entity, slot)

    # --- lifecycle --------------------------------------------------------------------------------------
    def history(self, entity: Entity, slot: int) -> tuple[int, ...] | None:
        """Revisions (1..revision) in which the record changed, or None if it does not exist now."""
        if entity is Entity.RELEASE:
            found = self.release_master(slot)
            if found is not None and found[1] and self.history(Entity.MASTER, found[0]) is None:
                return None  # a single master is removed together with its main release
        p_remove = P_REMOVE[entity] * (self.churn.remove / P_REMOVE_AT)
        changes = []
        for rev in range(self.birth(entity, slot) + 1, self.revision + 1):
            u = unit(self.seed, entity, slot, 1000 + rev)
            if u < p_remove:
                if self.removable(entity, slot):
                    return None
            elif u < p_remove + self.churn.change:
                changes.append(rev)
        return tuple(changes)

    # --- masters and releases ---------------------------------------------------------------------------
    def main_offset(self, master: int) -> int:
        return mix(self.seed, Entity.MASTER, master, 3) % 4

    def main_release_slot(self, master: int) -> int:
        m0 = self.n_masters
        block = 4 * master if master < m0 else self.releases + 4 * (master - m0)
        return block + self.main_offset(master)

    def release_master(self, slot: int) -> tuple[int, bool] | None:
        """(master slot, is_main_release) of a release slot, or None when it has no master."""
        m0 = self.n_masters
        if not m0:
            return None
        if slot < 4 * m0:
            block, pos = divmod(slot, 4)
        elif slot < self.releases:
            block, pos = m0 - 1, -1  # tail slots below the first grown block hold no main release
        else:
            block, pos = divmod(slot - self.releases, 4)
            block += m0
        if pos == self.main_offset(block):
            return block, True
        if unit(self.seed, Entity.RELEASE, slot, 3) >= ATTACH_SHARE:
            return None
        # Reissues sit a little after their master in id order.
        master = block - int(unit(self.seed, Entity.RELEASE, slot, 4) ** 2 * 12)
        return (master, False) if master >= 0 and self.multi(master) else None

    # --- references to artists and labels ---------------------------------------------------------------
    def popular(self, entity: Entity, u: float) -> int:
        """A revision-0 slot for a uniform u, skewed to low slots (old, popular records)."""
        return int(self.base(entity) * u**3)

    def pick(self, entity: Entity, u: float) -> int:
        """A referenced (non-orphan, revision-0) slot, by popularity."""
        n = self.base(entity)
        slot = self.popular(entity, u)
        for _ in range(n):
            if self.plain(entity, slot):
                return slot
            slot = (slot + 1) % n
        return 0

    def group_of(self, artist: int) -> int | None:
        """The group an artist belongs to (a non-orphan block head), for revision-0 slots only."""
        head = artist - artist % GROUP_BLOCK
        if artist == head or not self.is_group(head) or not self.plain(Entity.ARTIST, artist):
            return None
        return head if unit(self.seed, Entity.ARTIST, artist, 5) < 0.3 else None

    def is_group(self, artist: int) -> bool:
        return (artist % GROUP_BLOCK == 0 and artist + GROUP_BLOCK <= self.base(Entity.ARTIST)
                and self.plain(Entity.ARTIST, artist))

    def members(self, group: int) -> list[int]:
        if not self.is_group(group):
            return []
        return [k for k in range(group + 1, group + GROUP_BLOCK) if self.group_of(k) == group]

    def alias_of(self, artist: int) -> int | None:
        """Pairs (2p, 2p+1) of revision-0, non-orphan artists may be aliases of each other (symmetric)."""
        partner = artist ^ 1
        if partner >= self.base(Entity.ARTIST) or artist >= self.base(Entity.ARTIST):
            return None
        if not (self.plain(Entity.ARTIST, artist) and self.plain(Entity.ARTIST, partner)):
            return None
        return partner if unit(self.seed, Entity.ARTIST, artist >> 1, 6) < 0.15 else None

    def parent_label(self, label: int) -> int | None:
        head = label - label % GROUP_BLOCK
        if label == head or head + GROUP_BLOCK > self.base(Entity.LABEL):
            return None
        if not (self.plain(Entity.LABEL, head) and self.plain(Entity.LABEL, label)):
            return None
        return head if unit(self.seed, Entity.LABEL, label, 5) < 0.25 else None

    def sublabels(self, label: int) -> list[int]:
        if label % GROUP_BLOCK:
            return []
        return [k for k in range(label + 1, label + GROUP_BLOCK) if self.parent_label(k) == label]


def geometric(u: float, mean: float) -> int:
    """A geometric-ish count >= 0 from one uniform draw."""
    return int(-math.log(1.0 - u) * mean)
