"""`dataget synth`: realistic synthetic Discogs monthly dumps (2026-era structure) of any size.

`write_dump_set(out_dir, releases)` writes `discogs_{date}_{artists,labels,masters,releases}.xml.gz` and, last,
`discogs_{date}_CHECKSUM.txt`. Output is a pure function of the arguments (byte-identical on every run), is
streamed with constant memory, and forms a closed set: every master/artist/label id referenced exists.

Counts at revision 0 for R releases: R // 4 masters, R // 2 artists, R // 8 labels (at least 1 each). With
`profile="discogs"` the set has the real catalogue's shape instead (dataget/synth/profile.py): its masters, artist and
label counts, videos and facet values, with unique artist and label names; the revision rules below are the same.

Revisions ("next month's dump", same seed, revision r > 0) are applied one after another, r = 1, 2, …; in each, with
the default `churn` (dataget.synth.plan.Churn; `bench/month.py` uses a month of 2 % / 0.4 % / 0.5 %):
* ~2 % of the existing records of every entity change (`change`: title, a video added or removed, a genre,
  data quality, a profile/url/name-variation line…); each change alters the record's bytes;
* ~1 % disappear (`remove`): orphan artists/labels (20 % of them, never referenced) with p = 0.05, "single" masters
  (40 %) with p = 0.025 together with their main release, other non-main releases with p = 0.01;
* new records are appended beyond the previous max id: round(1 % of the revision-0 count) per entity (`new`, at
  least 1), releases 4x the new masters so every new master gets a main release.
Every other record is byte-identical to the previous revision.

Speed (gzip level 1): one core renders and compresses ~11k releases/s (~95 µs CPU each, ~3.2 kB XML, ~0.64 kB
gzipped); sets of >= PARALLEL_FROM releases use one worker process per CPU. 1M releases: ~650 MB releases file,
~130 CPU-seconds for the whole set, ~230 MB peak RSS. The discogs profile renders a release in about twice the CPU
(~200 µs: its facts, and each video drawn from its key).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dataget.synth.compress import write_pieces
from dataget.synth.plan import DEFAULT_CHURN, Churn, Plan
from dataget.synth.render import render, worker_pool
from dataget.synth.shape import DiscogsPlan

KINDS = ("artists", "labels", "masters", "releases")  # CHECKSUM order, like the real file
PARALLEL_FROM = 50_000  # below this, starting worker processes costs more than it saves
PROFILES: dict[str, type[Plan]] = {"classic": Plan, "discogs": DiscogsPlan}


@dataclass(frozen=True)
class DumpSet:
    dump_date: str
    artists: Path
    labels: Path
    masters: Path
    releases: Path
    checksum: Path
    artist_count: int
    label_count: int
    master_count: int
    release_count: int

    @property
    def files(self) -> dict[str, Path]:
        return {kind: getattr(self, kind) for kind in KINDS}

    @property
    def counts(self) -> dict[str, int]:
        return {kind: getattr(self, kind[:-1] + "_count") for kind in KINDS}


def dump_filename(dump_date: str, kind: str) -> str:
    return f"discogs_{dump_date}_{kind}.xml.gz" if kind != "CHECKSUM" else f"discogs_{dump_date}_CHECKSUM.txt"


def write_dump_set(out_dir: Path, releases: int, *, seed: int = 1, dump_date: str = "20260301",
                   revision: int = 0, gzip_level: int = 1, workers: int | None = None, profile: str = "classic",
                   churn: Churn = DEFAULT_CHURN,
                   progress: Callable[[str, int, float], None] | None = None) -> DumpSet:
    """Write a consistent synthetic dump set; see the module docstring for sizes and revision semantics.

    `workers` processes render records (default: one per CPU for sets of >= PARALLEL_FROM releases, else 1);
    the output does not depend on it. `progress(kind, records, seconds)` is called after each file.
    """
    if releases < 1 or revision < 0:
        raise ValueError("releases must be >= 1 and revision >= 0")
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    if len(dump_date) != 8 or not dump_date.isdigit():
        raise ValueError(f"dump_date must be YYYYMMDD, got {dump_date!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = PROFILES[profile](seed=seed, releases=releases, revision=revision, churn=churn)
    if workers is None:
        workers = (os.cpu_count() or 1) if releases >= PARALLEL_FROM else 1
    paths, counts, sums = {}, {}, {}
    with worker_pool(plan, workers) as pool:
        for kind in KINDS:
            started = time.perf_counter()
            paths[kind] = out_dir / dump_filename(dump_date, kind)
            counts[kind], sums[kind] = write_pieces(paths[kind], render(plan, kind, gzip_level, pool, 2 * workers))
            if progress is not None:
                progress(kind, counts[kind], time.perf_counter() - started)
    checksum = out_dir / dump_filename(dump_date, "CHECKSUM")
    tmp = checksum.with_name(checksum.name + ".part")
    tmp.write_text("".join(f"{sums[k]} {paths[k].name}\n" for k in KINDS), encoding="ascii")
    os.replace(tmp, checksum)
    return DumpSet(dump_date, paths["artists"], paths["labels"], paths["masters"], paths["releases"], checksum,
                   counts["artists"], counts["labels"], counts["masters"], counts["releases"])
