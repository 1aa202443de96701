"""Calibration of the `discogs` profile: target against generated, as a Markdown table (bench/README.md).

    python bench/calibration.py --releases 200000

Targets are the real catalogue's figures (the 2026 dumps' counts, public loaders' row counts, the master-size
quantiles) and what the philipmat 20200806 releases sample (979 releases, in ../shared/fixtures/discogs beside the
repository; tests/fixtures/discogs holds a 37-release cut of it) measures, read here through the producer's parser.
Generated figures are measured on the profile's first --releases releases as bench/query.py and bench/scale.py index
them, with the index's own reading of a record (sinks/facets.py).
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dataget.synth import profile as P
from dataget.synth.plan import NOT_ON_LABEL, Entity
from dataget.synth.shape import Catalogue
from producers.records import iter_records
from sinks.facets import release_facets, release_videos

NOL = NOT_ON_LABEL[2]
SAMPLE = "releases-sample-philipmat-20200806.xml"
ROOT = Path(__file__).resolve().parents[1]


def facet_stats(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """What a set of release records shows of the figures the profile is fitted to."""
    n = with_videos = videos = in_master = 0
    values: dict[str, Counter[str]] = {}
    per_release: dict[str, list[int]] = {"genre": [], "style": []}
    for record in records:
        n += 1
        count = len(release_videos(record))
        with_videos += count > 0
        videos += count
        in_master += bool(record.get("master_id"))
        facets = release_facets(record)
        for facet, found in facets.items():
            values.setdefault(facet, Counter()).update(found or {""})
        for facet in per_release:
            per_release[facet].append(len(facets[facet]))
    return {"n": n, "with_videos": with_videos / n, "videos": videos / max(1, with_videos), "in_master": in_master / n,
            "values": values, "genres_mean": statistics.mean(per_release["genre"]),
            "styles_mean": statistics.mean(per_release["style"])}


def share(counter: Counter[str], value: str, n: int) -> str:
    return f"{counter[value] / n:.1%}"


def top(counter: Counter[str], n: int, skip: tuple[str, ...] = ("",)) -> str:
    value, count = next((v, c) for v, c in counter.most_common() if v not in skip)
    return f"{count / n:.1%} ({value})"


def head_share(n: int, s: float, special: float) -> float:
    """The most popular of n values' share of releases, the rest of them drawing from Zipf(s) (profile.zipf_rank)."""
    a = 1.0 - s
    return (1.0 - special) * (2.0**a - 1.0) / ((n + 1.0) ** a - 1.0)


def decades(counter: Counter[str], n: int) -> str:
    shown = [d for d in sorted(counter) if d and counter[d] / n >= 0.05]
    return " ".join(f"{int(d) % 100:02d}s {counter[d] / n:.0%}" for d in shown)


def main(args: argparse.Namespace) -> None:
    fixture = facet_stats(item.record for item in iter_records(args.fixture) if item.record is not None)
    catalogue = Catalogue(args.seed, args.releases)
    plan = catalogue.plan
    release_rows = 0
    master_sets: dict[int, set[int]] = {}
    distinct: set[int] = set()

    def generated() -> Iterable[dict[str, Any]]:
        nonlocal release_rows
        for slot in range(args.releases):
            facts, record = catalogue.release(slot)
            release_rows += len(facts.videos)
            distinct.update(facts.videos)
            if facts.master is not None:
                master_sets.setdefault(facts.master, set()).update(facts.videos)
            yield record

    gen = facet_stats(generated())
    for master in range(plan.n_masters):
        master_sets.setdefault(master, set()).update(catalogue.shape.master_videos(master))
    master_rows = sum(len(videos) for videos in master_sets.values())
    sizes = sorted(plan.layout.size(master) for master in range(plan.n_masters))
    scale = P.FULL_RELEASES / args.releases
    fv, gv = fixture["values"], gen["values"]
    fn, gn = fixture["n"], gen["n"]
    rows = [
        ("releases with videos", f"~50% (fixture {fixture['with_videos']:.1%})", f"{gen['with_videos']:.1%}"),
        ("videos per release with videos", f"~4.3 (fixture {fixture['videos']:.2f})", f"{gen['videos']:.2f}"),
        ("release -> video rows, full size", "~50-64M (loaders)", f"{release_rows * scale / 1e6:.1f}M"),
        ("master -> video rows / release -> video rows", f"{P.MASTER_VIDEO_ROWS / P.RELEASE_VIDEO_ROWS:.2f} (32M/55M)",
         f"{master_rows / release_rows:.2f}"),
        ("distinct videos, full size", "20-30M (expected)", f"{len(distinct) * scale / 1e6:.1f}M"),
        ("releases in a master", f"58% (fixture {fixture['in_master']:.1%})", f"{gen['in_master']:.1%}"),
        ("masters per release", f"{P.MASTERS_PER_RELEASE:.3f}", f"{plan.n_masters / args.releases:.3f}"),
        ("releases per master: median / p90 / p99", f"{P.MASTER_SIZE_MEDIAN} / {P.MASTER_SIZE_P90} / "
         f"{P.MASTER_SIZE_P99}", " / ".join(str(sizes[int(q * (len(sizes) - 1))]) for q in (0.5, 0.9, 0.99))),
        ("biggest masters", "thousands of releases", ", ".join(f"{s:,}" for s in sizes[-3:])),
        ("genres / top genre", f"15 / {top(fv['genre'], fn)}", f"{len(gv['genre'])} / {top(gv['genre'], gn)}"),
        ("genres per release", f"{fixture['genres_mean']:.2f}", f"{gen['genres_mean']:.2f}"),
        ("styles / top style", f"757 / {top(fv['style'], fn)}", f"{len(gv['style']) - ('' in gv['style'])} / "
         f"{top(gv['style'], gn)}"),
        ("styles per release", f"{fixture['styles_mean']:.2f}", f"{gen['styles_mean']:.2f}"),
        ("labels, artists per release", f"{P.LABELS_PER_RELEASE:.3f}, {P.ARTISTS_PER_RELEASE:.3f} (2.4M, 10.2M)",
         f"{plan.base(Entity.LABEL) / args.releases:.3f}, {plan.base(Entity.ARTIST) / args.releases:.3f}"),
        ("labels, artists on releases", "-", f"{len(gv['label']):,}, {len(gv['artist']):,}"),
        ("Not On Label / top label", f"{share(fv['label'], NOL, fn)} / {top(fv['label'], fn, ('', NOL))}",
         f"{share(gv['label'], NOL, gn)} / {top(gv['label'], gn, ('', NOL))}; "
         f"{head_share(P.FULL_LABELS, P.LABEL_ZIPF, P.NOT_ON_LABEL_SHARE):.1%} at full size"),
        ("Various / top artist", f"{share(fv['artist'], 'Various', fn)} / {top(fv['artist'], fn, ('', 'Various'))}",
         f"{share(gv['artist'], 'Various', gn)} / {top(gv['artist'], gn, ('', 'Various'))}; "
         f"{head_share(P.FULL_ARTISTS, P.ARTIST_ZIPF, P.COMPILATION_SHARE):.1%} at full size"),
        ("no year / decades >= 5%", f"{share(fv['year'], '', fn)} / {decades(fv['decade'], fn)}",
         f"{share(gv['year'], '', gn)} / {decades(gv['decade'], gn)}"),
        ("countries / no country / top", f"{len(fv['country']) - 1} / {share(fv['country'], '', fn)} / "
         f"{top(fv['country'], fn)}", f"{len(gv['country']) - 1} / {share(gv['country'], '', gn)} / "
         f"{top(gv['country'], gn)}"),
        ("top formats", f"{top(fv['format'], fn)}, {share(fv['format'], 'CD', fn)} CD",
         f"{top(gv['format'], gn)}, {share(gv['format'], 'CD', gn)} CD"),
    ]
    print(f"Generated: the first {args.releases:,} releases of the discogs profile, seed {args.seed}; fixture: "
          f"{fn} releases.\n")
    print("| figure | target | generated |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--releases", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fixture", type=Path, default=ROOT.parent / "shared/fixtures/discogs" / SAMPLE,
                        help=f"the releases sample (default: ../shared/fixtures/discogs/{SAMPLE})")
    return parser.parse_args()


if __name__ == "__main__":
    main(parse_args())
