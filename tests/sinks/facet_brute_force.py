"""Synthetic releases and random facet queries for the facet index tests, with the answers worked out by brute
force."""

from __future__ import annotations

import random
from typing import Any

from schemas.query import FacetQuery
from sinks.facets import release_facets, release_videos

GENRES = ["Rock", "Electronic", "Jazz", "Pop", "Hip Hop"]
STYLES = ["Techno", "House", "Punk", "Synth-pop", "Ambient", "Soul"]
COUNTRIES = ["UK", "US", "Germany", "France", "Japan"]
ARTISTS = ["Björk", "Bjorn Again", "Depeche Mode", "Motörhead", "Sigur Rós", "Various"]
LABELS = ["Warp", "Mute", "Sire", "Not On Label"]
FORMATS = ["Vinyl", "CD", "Cassette"]
RELEASED = ["1979", "1985-03-00", "1990-03-20", "1999-12-31", "2003-00-00", "0000-00-00", None, "2010"]


def video(vid: str, title: str | None = None) -> dict[str, Any]:
    return {"src": f"https://www.youtube.com/watch?v={vid}", "youtube_id": vid, "title": title or f"title {vid}"}


def synthetic_release(rng: random.Random, rid: int, videos: int = 120) -> dict[str, Any]:
    pool = [f"vid{n:08d}" for n in range(videos)]  # a small pool shares videos between releases
    return {
        "id": rid,
        "genres": rng.sample(GENRES, rng.randint(0, 2)),
        "styles": rng.sample(STYLES, rng.randint(0, 2)),
        "released": rng.choice(RELEASED),
        "country": rng.choice(COUNTRIES + [None]),
        "labels": [{"name": n, "catno": "x"} for n in rng.sample(LABELS, rng.randint(0, 2))],
        "artists": [{"name": n} for n in rng.sample(ARTISTS, rng.randint(1, 2))],
        "extraartists": [{"name": "Extra Person"}],
        "formats": [{"name": n} for n in rng.sample(FORMATS, rng.randint(1, 2))],
        "master_id": rng.choice([None, 1, 2, 3, 4, 5, 6]),
        "videos": [video(v) for v in rng.sample(pool, rng.choice([0, 1, 1, 2, 3]))],
    }


def brute(releases: dict[int, dict], masters: dict[int, dict], q: FacetQuery) -> tuple[int, set[str], dict]:
    """(R, V, video -> releases that may stand for it) computed the slow, obvious way."""
    matched = {}
    for rid, rec in releases.items():
        videos = {v for v, _ in release_videos(rec)}
        facets = release_facets(rec)
        if videos and all(facets[f] & set(vals) for f, vals in q.facets.items()):
            matched[rid] = (videos, rec.get("master_id"))
    owners: dict[str, set[int]] = {}
    for rid, (videos, _) in matched.items():
        for v in videos:
            owners.setdefault(v, set()).add(rid)
    if q.unique != "master":
        return len(matched), set(owners), owners
    groups = {("m", m) if m else ("r", rid) for rid, (_, m) in matched.items()}
    for rid, (_, m) in matched.items():
        for v, _ in release_videos(masters.get(m) or {}):
            owners.setdefault(v, set()).add(rid)
    return len(groups), set(owners), owners


def random_query(rng: random.Random, unique: str | None = None) -> FacetQuery:
    choices = {
        "genre": GENRES, "style": STYLES, "country": COUNTRIES, "artist": ARTISTS, "label": LABELS,
        "format": FORMATS, "year": ["1979", "1985", "1990", "2003"], "decade": ["1970", "1980", "1990", "2000"],
    }
    names = rng.sample(sorted(choices), rng.choice([0, 1, 1, 2, 2, 3, 4]))
    facets = {n: tuple(rng.sample(choices[n], rng.choice([1, 1, 2]))) for n in names}
    return FacetQuery(facets=facets, limit=rng.choice([1, 5, 500]), unique=unique, seed=rng.choice([None, 7]))
