"""The shape of the real Discogs catalogue: target figures and the distributions calibrated to them.

Used by the `discogs` profile's generator (dataget/synth/shape.py), which `dataget synth --profile discogs` renders
as XML and bench/query.py and bench/scale.py index directly; bench/calibration.py prints target against generated.

Sources: the counts of the 2026-09-01 dumps and public loaders' row counts, and the philipmat 20200806
releases and masters samples in tests/fixtures/discogs (979 releases with ids spanning 22-14M, 1,000 masters), whose
counts are written below as they were measured, so each weight reads as "this many of the sample".
"""

from __future__ import annotations

import math

from dataget.synth import vocab as V
from dataget.synth.vocab import Weighted

# --- The real catalogue ---------------------------------------------------------------------------------------------
FULL_RELEASES = 19_417_067
FULL_ARTISTS = 10_203_002
FULL_MASTERS = 2_589_349
FULL_LABELS = 2_415_476
# Artists and labels scale with the release count.
ARTISTS_PER_RELEASE = FULL_ARTISTS / FULL_RELEASES
LABELS_PER_RELEASE = FULL_LABELS / FULL_RELEASES

# --- Masters --------------------------------------------------------------------------------------------------------
MASTER_SHARE = 0.58  # releases that belong to a master
MASTER_SIZE_MEDIAN, MASTER_SIZE_P90, MASTER_SIZE_P99 = 2, 7, 32  # releases per master
MASTERS_PER_RELEASE = FULL_MASTERS / FULL_RELEASES  # 0.133: 4.35 releases per master on average
# Releases per master: floor(SCALE * u ** (-1 / ALPHA)), a Pareto tail fitted to the median and quantiles above
# (its mean, 4.1, leaves ~7% more masters than the real count), capped where Discogs' biggest albums are.
MASTER_SIZE_SCALE = 1.58
MASTER_SIZE_ALPHA = 1.5
MASTER_SIZE_MAX = 3000

# --- Videos ---------------------------------------------------------------------------------------------------------
VIDEO_SHARE = 0.5  # releases listing YouTube videos (509 of the sample's 979)
VIDEOS_PER_RELEASE = 4.3  # among those (2,190 videos on the sample's 509)
# Loaders' row counts: distinct (master, video) pairs over a master's own videos and its releases', against all
# release -> video rows. Releases of one master repeat each other's videos.
MASTER_VIDEO_ROWS, RELEASE_VIDEO_ROWS = 32_000_000, 55_000_000
# The sample: 434 of 596 releases in a master list videos, 75 of the 383 others.
VIDEO_SHARE_IN_MASTER = 434 / 596
VIDEO_SHARE_NO_MASTER = 75 / 383
# Videos on a release that lists some: the sample's counts.
VIDEO_COUNTS = Weighted.of([
    (1, 120), (2, 101), (3, 72), (4, 59), (5, 36), (6, 25), (7, 14), (8, 13), (9, 8), (10, 13), (11, 18), (12, 7),
    (13, 4), (14, 2), (15, 6), (16, 1), (19, 5), (20, 1), (21, 1), (24, 1), (25, 1), (29, 1),
])
# A master's own <videos>: the masters sample's counts (426 of 1,000 have none).
MASTER_VIDEO_COUNTS = Weighted.of([
    (0, 426), (1, 173), (2, 135), (3, 76), (4, 51), (5, 25), (6, 29), (7, 14), (8, 10), (9, 11), (10, 8), (11, 6),
    (12, 10), (13, 7), (14, 5), (15, 1), (16, 4), (17, 1), (19, 1), (20, 1), (21, 1), (22, 1), (27, 2), (29, 1),
    (37, 1),
])
# A video of a release in a master is one of the master's pool with this probability (else the release's own). The
# pool starts with the master's own videos and grows as the square root of the master (an album's few official
# videos are listed by hundreds of its versions). Tuned so that master rows / release rows comes out at
# MASTER_VIDEO_ROWS / RELEASE_VIDEO_ROWS (bench/calibration.py).
POOL_VIDEO_SHARE = 0.7
POOL_BASE, POOL_SCALE, POOL_EXPONENT = 2, 1.0, 0.5

# --- Facet values ---------------------------------------------------------------------------------------------------
# Compilations credit "Various" (60 of 979), self-released items "Not On Label" (21 of 979; its variants such as
# "Not On Label (X Self-released)", 32 more, are labels of their own).
COMPILATION_SHARE = 60 / 979
NOT_ON_LABEL_SHARE = 21 / 979
# Credits per release (main artists, labels, genres, styles, formats): the sample's counts.
ARTIST_COUNTS = Weighted.of([(1, 838), (2, 88), (3, 34), (4, 7), (5, 5), (6, 2), (7, 3), (9, 1), (10, 1)])
LABEL_COUNTS = Weighted.of([(1, 913), (2, 57), (3, 7), (4, 2)])
GENRE_COUNTS = Weighted.of([(1, 754), (2, 169), (3, 40), (4, 13), (5, 2), (7, 1)])
STYLE_COUNTS = Weighted.of([(0, 146), (1, 448), (2, 233), (3, 104), (4, 27), (5, 13), (6, 3), (7, 3), (9, 1), (10, 1)])
FORMAT_COUNTS = Weighted.of([(1, 958), (2, 16), (3, 5)])
# Zipf exponents of artists and labels by popularity rank: the sample's biggest label (Philips) is on 1.4% of the
# releases, its biggest artist after "Various" on 0.8%, as these give at full size.
ARTIST_ZIPF = 0.8
LABEL_ZIPF = 0.85
# Styles belong to genres; within a genre they are Zipf-skewed (House is on 6.8% of the sample, Pop Rock on 6.4%).
STYLE_TOTAL = 757
STYLE_ZIPF = 1.1
GENRES = Weighted.of([
    ("Rock", 332), ("Electronic", 296), ("Pop", 182), ("Folk, World, & Country", 112), ("Classical", 67),
    ("Jazz", 65), ("Funk / Soul", 52), ("Hip Hop", 43), ("Stage & Screen", 36), ("Latin", 30), ("Blues", 24),
    ("Reggae", 19), ("Non-Music", 11), ("Children's", 10), ("Brass & Military", 2),
])
FORMATS = Weighted.of([
    ("Vinyl", 489), ("CD", 285), ("File", 83), ("Cassette", 74), ("CDr", 30), ("Box Set", 12), ("DVD", 11),
    ("Shellac", 9), ("All Media", 5), ("Reel-To-Reel", 2), ("VHS", 2), ("8-Track Cartridge", 1), ("Acetate", 1),
    ("Flexi-disc", 1),
])
# Release years: the sample's decades (119 of 979 have no year); it was cut in 2020, so the 2020s get the 2010s'
# yearly rate for 2020-2026.
NO_YEAR_SHARE = 119 / 979
DECADES = Weighted.of([
    (1930, 1), (1940, 2), (1950, 5), (1960, 67), (1970, 81), (1980, 97), (1990, 184), (2000, 195), (2010, 228),
    (2020, 160),
])
LAST_YEAR = 2026
NO_COUNTRY_SHARE = 30 / 979
COUNTRIES = Weighted.of([
    ("US", 235), ("Germany", 90), ("UK", 78), ("Japan", 57), ("Italy", 44), ("Canada", 40), ("Netherlands", 39),
    ("France", 33), ("Spain", 31), ("Russia", 31), ("Europe", 24), ("Australia", 21), ("Sweden", 19), ("Poland", 17),
    ("Norway", 12), ("Greece", 12), ("Switzerland", 10), ("Czechoslovakia", 8), ("Denmark", 7), ("UK & Europe", 7),
    ("Rhodesia", 7), ("Yugoslavia", 6), ("Belgium", 6), ("Israel", 6), ("Ukraine", 6), ("Jamaica", 5), ("Brazil", 5),
    ("Austria", 5), ("Nigeria", 5), ("Serbia", 4), ("Colombia", 4), ("Portugal", 4), ("Czech Republic", 4),
    ("USSR", 4), ("New Zealand", 4), ("Finland", 4), ("Scandinavia", 3), ("Hungary", 3), ("Taiwan", 3),
    ("Iceland", 3), ("Mexico", 3), ("Indonesia", 3), ("India", 3), ("Singapore, Malaysia & Hong Kong", 3),
    ("Singapore", 2), ("Belarus", 2), ("USA & Canada", 2), ("Chile", 2), ("Australasia", 2), ("South Africa", 2),
    ("Malaysia", 2), ("Middle East", 2), ("Georgia", 1), ("China", 1), ("Philippines", 1), ("Argentina", 1),
    ("Romania", 1), ("Venezuela", 1), ("Peru", 1), ("Slovakia", 1), ("Bulgaria", 1), ("UK & US", 1),
    ("UK & Ireland", 1), ("Ireland", 1), ("Croatia", 1), ("Zimbabwe", 1), ("Turkey", 1),
])


def zipf_rank(u: float, n: int, s: float) -> int:
    """A rank in [0, n) for a uniform u, P(rank k) ~ (k + 1) ** -s (continuous inverse CDF; s > 0, s != 1)."""
    a = 1.0 - s
    return min(n - 1, int((1.0 + u * ((n + 1.0) ** a - 1.0)) ** (1.0 / a)) - 1)


def master_size(u: float) -> int:
    """Releases of a master for a uniform u (see MASTER_SIZE_SCALE)."""
    return min(MASTER_SIZE_MAX, max(1, int(MASTER_SIZE_SCALE * (1.0 - u) ** (-1.0 / MASTER_SIZE_ALPHA))))


def master_pool(size: int) -> int:
    """How many videos releases of a master of `size` releases share."""
    return POOL_BASE + math.ceil(POOL_SCALE * math.pow(size, POOL_EXPONENT))


def year(u: float, v: float) -> int:
    """A release year from two uniforms, by the sample's decades."""
    return min(LAST_YEAR, DECADES.pick(lambda: u) + int(v * 10))


def artist_count(n_releases: int) -> int:
    return max(1, round(n_releases * ARTISTS_PER_RELEASE))


def label_count(n_releases: int) -> int:
    return max(1, round(n_releases * LABELS_PER_RELEASE))


def styles_by_genre() -> dict[str, tuple[str, ...]]:
    """STYLE_TOTAL distinct styles, each genre's in popularity order: the real names of vocab.STYLES first, then
    made-up ones ("Velvet House") shared out by genre weight, as the real long tail is."""
    weights = dict(zip(GENRES.values, (b - a for a, b in zip((0.0, *GENRES.cum), GENRES.cum, strict=False)),
                       strict=True))
    out = {genre: list(V.STYLES[genre]) for genre in GENRES.values}
    seen = {style for styles in out.values() for style in styles}
    tail = STYLE_TOTAL - len(seen)
    quota = {genre: round(tail * weight / GENRES.cum[-1]) for genre, weight in weights.items()}
    quota[GENRES.values[0]] += tail - sum(quota.values())  # rounding goes to the biggest genre
    for genre in GENRES.values:
        bases, n = V.STYLES[genre], 0
        while quota[genre] > 0:
            name = f"{V.WORDS[n % len(V.WORDS)]} {bases[(n // len(V.WORDS) + n) % len(bases)]}"
            n += 1
            if name not in seen:
                seen.add(name)
                out[genre].append(name)
                quota[genre] -= 1
    return {genre: tuple(styles) for genre, styles in out.items()}
