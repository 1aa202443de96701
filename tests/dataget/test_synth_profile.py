"""Tests for the discogs profile: its distributions (dataget/synth/profile.py) and the catalogue drawn from them
(dataget/synth/shape.py). The XML rendering of that catalogue is tested in test_synth_dump_set.py."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from dataget.synth import profile as P
from dataget.synth.plan import Entity
from dataget.synth.shape import Catalogue, DiscogsPlan, Permutation, Shape, master_layout
from schemas.youtube import is_video_id


def quantile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def test_master_sizes_have_the_real_median_and_tail() -> None:
    rng = random.Random(1)
    sizes = [P.master_size(rng.random()) for _ in range(200_000)]
    assert quantile(sizes, 0.5) == P.MASTER_SIZE_MEDIAN
    assert quantile(sizes, 0.9) == P.MASTER_SIZE_P90
    assert abs(quantile(sizes, 0.99) - P.MASTER_SIZE_P99) <= 3
    assert max(sizes) == P.MASTER_SIZE_MAX  # a few masters of thousands
    assert 3.8 < sum(sizes) / len(sizes) < 4.6


@pytest.mark.parametrize("s", [0.8, 1.1])
def test_zipf_ranks_stay_in_range_and_favour_the_head(s: float) -> None:
    rng = random.Random(2)
    ranks = Counter(P.zipf_rank(rng.random(), 1000, s) for _ in range(50_000))
    assert min(ranks) == 0 and max(ranks) <= 999
    assert ranks[0] > ranks[1] > ranks[10] > ranks[500]
    assert P.zipf_rank(0.0, 1000, s) == 0 and P.zipf_rank(0.999999999, 1000, s) == 999


def test_757_distinct_styles_with_the_real_names_first() -> None:
    styles = P.styles_by_genre()
    assert set(styles) == set(P.GENRES.values)
    assert len({style for names in styles.values() for style in names}) == P.STYLE_TOTAL
    assert styles["Electronic"][:3] == ("House", "Techno", "Deep House")
    assert len(styles["Rock"]) > len(styles["Jazz"]) > len(styles["Brass & Military"])


@pytest.mark.parametrize("n", [1, 2, 3, 17, 1000, 4097])
def test_permutation_is_a_bijection_with_an_inverse(n: int) -> None:
    perm = Permutation(7, n)
    image = [perm.forward(x) for x in range(n)]
    assert sorted(image) == list(range(n))
    assert all(perm.inverse(y) == x for x, y in enumerate(image))
    if n > 100:
        assert sum(y == x for x, y in enumerate(image)) < n // 10  # it really shuffles


def test_master_layout_cuts_the_share_of_releases_into_masters() -> None:
    n = 50_000
    plan = DiscogsPlan(seed=3, releases=n)
    layout = master_layout(3, n)
    assert layout.in_masters == round(n * P.MASTER_SHARE)
    assert sum(layout.size(m) for m in range(layout.masters)) == layout.in_masters
    members: dict[int, list[int]] = defaultdict(list)
    mains = {}
    for slot in range(n):
        found = plan.release_master(slot)
        if found is not None:
            members[found[0]].append(slot)
            if found[1]:
                mains[found[0]] = slot
    assert sum(len(v) for v in members.values()) == layout.in_masters
    assert all(len(members[m]) == layout.size(m) for m in range(layout.masters))
    assert all(plan.main_release_slot(m) == mains[m] for m in range(layout.masters))
    # Releases of a big master are spread over the id range, not numbered next to each other.
    biggest = max(members, key=lambda m: len(members[m]))
    assert max(members[biggest]) - min(members[biggest]) > n // 2
    assert 0.12 < layout.masters / n < 0.16
    assert plan.base(Entity.ARTIST) == round(n * P.ARTISTS_PER_RELEASE)
    assert plan.base(Entity.LABEL) == round(n * P.LABELS_PER_RELEASE)


def test_release_facts_follow_their_master_and_are_pure() -> None:
    plan = DiscogsPlan(seed=4, releases=20_000)
    shape, again = Shape(plan), Shape(plan)
    facts = [shape.release(slot) for slot in range(20_000)]
    assert facts[123] == again.release(123)  # a pure function of (seed, size, slot)
    for f in facts:
        if f.master is not None:
            core = shape.master(f.master)
            assert (f.artists, f.genres, f.styles) == (core.artists, core.genres, core.styles)
            assert f.shared <= core.pool
        assert f.shared <= len(f.videos) == len(set(f.videos))
        assert f.genres and f.labels and f.formats
    with_videos = [f for f in facts if f.videos]
    assert 0.46 < len(with_videos) / len(facts) < 0.55
    assert 4.0 < sum(len(f.videos) for f in with_videos) / len(with_videos) < 4.6
    assert 0.55 < sum(f.master is not None for f in facts) / len(facts) < 0.61


def test_videos_are_shared_within_masters_like_the_loaders_rows() -> None:
    catalogue = Catalogue(5, 20_000)
    rows = 0
    per_master: dict[int, set[int]] = defaultdict(set)
    for slot in range(20_000):
        facts, record = catalogue.release(slot)
        rows += len(facts.videos)
        if facts.master is not None:
            per_master[facts.master].update(facts.videos)
        assert all(is_video_id(v["youtube_id"]) for v in record["videos"])
    for master in range(catalogue.plan.n_masters):
        per_master[master].update(catalogue.shape.master_videos(master))
    # 0.58 for the real catalogue; a few big masters move it by a few hundredths from one small set to another.
    ratio = sum(len(v) for v in per_master.values()) / rows
    assert abs(ratio - P.MASTER_VIDEO_ROWS / P.RELEASE_VIDEO_ROWS) < 0.1
    assert ratio < 0.9  # without sharing each master would have about as many videos as its releases list


def test_catalogue_records_name_values_the_same_at_every_size() -> None:
    """bench/scale.py draws its query mix from the smallest size: a label or artist slot has one name everywhere."""
    small, big = Catalogue(1, 10_000), Catalogue(1, 40_000)
    for slot in (0, 7, 500):
        assert small.names.label(slot) == big.names.label(slot)
        assert small.names.artist(slot) == big.names.artist(slot)
    assert small.names.artist(96) == "Various" and small.names.label(605) == "Not On Label"
