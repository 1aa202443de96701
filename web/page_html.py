"""HTML of the pages for people: a release, a master, not found (pure: a record in, a document out).

Every facet value a record shows links to the main page with that value selected, so a page starts a selection;
values are linked exactly as the index files them (sinks.facets), so the selection finds this record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote, urlencode

from schemas.records import Credit, Master, Release, Track, Video
from sinks.facets import release_facets, release_year

SITE = "Discogs Dataget"
DISCOGS = "https://www.discogs.com"
# Discogs tells apart namesakes with a number ("Chris Bigg (2)"); the number is for its database, not for readers.
_NAMESAKE = re.compile(r" \(\d+\)$")
_ICON = ("data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' "
         "cy='8' r='7' fill='%23c2410c'/%3E%3Ccircle cx='8' cy='8' r='2' fill='%23fff'/%3E%3C/svg%3E")


def e(value: object) -> str:
    return escape(str(value), quote=True)


def selection_url(facet: str, value: str) -> str:
    return "/?" + urlencode({facet: value})


# The page player (web/static/player.js; record.js plays a record's videos in it).
PLAYER_HEAD = ('\n  <link rel="stylesheet" href="/static/player.css">'
               '\n  <script src="/static/player.js" defer></script>\n  <script src="/static/record.js" defer></script>')


def document(title: str, body: str, description: str = "", head: str = "") -> str:
    """The page around body: the site's bar, a skip link, the footer; the stylesheet follows the system's colours.
    head: more of <head> (the player's script and style)."""
    meta = f'\n  <meta name="description" content="{e(description)}">' if description else ""
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>{e(title)}</title>{meta}
  <link rel="icon" href="{_ICON}">
  <link rel="stylesheet" href="/static/style.css">{head}
</head>
<body>
  <a class="skip" href="#content">Skip to content</a>
  <header class="topbar">
    <a class="brand" href="/">Discogs <span>Dataget</span></a>
    <nav class="nav" aria-label="Site"><a href="/">Pick music</a><a href="/api">API</a></nav>
  </header>
  <main id="content" class="page">
{body}
  </main>
  <footer class="footer">Data from the <a href="https://data.discogs.com/">Discogs monthly dumps</a> (CC0).</footer>
</body>
</html>
"""


def display_name(credit: Credit) -> str:
    name = credit.get("anv") or credit.get("name") or ""
    return _NAMESAKE.sub("", str(name).strip())


def _link_or_text(text: str, facet: str, value: str | None, linked: set[str]) -> str:
    if value is not None and value in linked:
        return f'<a href="{e(selection_url(facet, value))}">{e(text)}</a>'
    return e(text)


def artists_html(credits: Sequence[Credit], linked: set[str]) -> str:
    """Main artists as Discogs joins them ("A & B", "A Feat. B"), each linked to a selection of that artist."""
    parts: list[str] = []
    for i, credit in enumerate(credits):
        name = str(credit.get("name") or "").strip()
        parts.append(_link_or_text(display_name(credit), "artist", name, linked))
        join = str(credit.get("join") or "").strip()
        if i < len(credits) - 1:
            parts.append(", " if join in ("", ",") else f" {e(join)} ")
    return "".join(parts)


def _values_html(facet: str, values: Iterable[str], linked: set[str]) -> str:
    return ", ".join(_link_or_text(v, facet, v.strip(), linked) for v in values)


def _facts(rows: Iterable[tuple[str, str]]) -> str:
    items = "".join(f"\n      <dt>{e(label)}</dt><dd>{value}</dd>" for label, value in rows if value)
    return f'    <dl class="facts">{items}\n    </dl>'


def duration_text(seconds: object) -> str:
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        return ""
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else (
        f"{seconds // 60}:{seconds % 60:02d}")


def videos_html(videos: Sequence[Video], release_id: int = 0) -> str:
    """The record's YouTube videos with titles; each item carries its id (and its release) for the page player."""
    items = []
    for video in videos:
        video_id = str(video.get("youtube_id") or "")
        if not video_id:
            continue
        title = str(video.get("title") or video_id)
        duration = duration_text(video.get("duration"))
        time = f' <span class="duration">{e(duration)}</span>' if duration else ""
        items.append(
            f'\n        <li data-video-id="{e(video_id)}" data-title="{e(title)}" data-release-id="{release_id}">'
            f'<a href="https://www.youtube.com/watch?v={quote(video_id)}" target="_blank" rel="noopener">'
            f"{e(title)}</a>{time}</li>")
    if not items:
        return '      <p class="hint">No videos.</p>'
    return f'      <ol class="videos">{"".join(items)}\n      </ol>'


def _track_rows(tracks: Sequence[Track], sub: bool = False) -> list[str]:
    rows = []
    for track in tracks:
        artists = track.get("artists") or []
        by = f' <span class="by">– {e(", ".join(display_name(a) for a in artists))}</span>' if artists else ""
        cls = ' class="sub"' if sub else ""
        rows.append(f"\n          <tr{cls}><td>{e(track.get('position') or '')}</td>"
                    f"<td>{e(track.get('title') or '')}{by}</td><td>{e(track.get('duration') or '')}</td></tr>")
        rows += _track_rows(track.get("sub_tracks") or [], sub=True)
    return rows


def tracklist_html(tracks: Sequence[Track]) -> str:
    if not tracks:
        return '      <p class="hint">No tracklist.</p>'
    return ('      <table class="tracklist">\n        <thead><tr><th scope="col">#</th><th scope="col">Title</th>'
            '<th scope="col">Length</th></tr></thead>\n        <tbody>'
            + "".join(_track_rows(tracks)) + "\n        </tbody>\n      </table>")


def _section(slug: str, heading: str, content: str) -> str:
    return (f'    <section aria-labelledby="{slug}-h">\n      <h2 id="{slug}-h">{e(heading)}</h2>\n'
            f"{content}\n    </section>")


def _player(videos: Sequence[Video]) -> tuple[str, str]:
    """The page player's panel and its <head> part; none without videos."""
    if not any(video.get("youtube_id") for video in videos):
        return "", ""
    panel = ('\n    <section class="panel listen" id="listen" aria-labelledby="listen-title" data-title="Play it here" '
             'data-intro="No sign-in and no YouTube quota: the videos below, one after the other."></section>')
    return panel, PLAYER_HEAD


def _notes(notes: object) -> str:
    if not isinstance(notes, str) or not notes.strip():
        return ""
    return f'\n    <details class="notes"><summary>Notes</summary><p>{e(notes.strip())}</p></details>'


def _title(record: Release | Master) -> tuple[str, str]:
    title = str(record.get("title") or "Untitled")
    names = ", ".join(display_name(a) for a in record.get("artists") or [])
    return title, f"{names} – {title}" if names else title


def release_page(release: Release) -> str:
    facets = release_facets(release)
    rid = release["id"]
    title, heading = _title(release)
    labels = ", ".join(
        _link_or_text(str(label.get("name") or ""), "label", str(label.get("name") or "").strip(), facets["label"])
        + (f' <span class="catno">{e(label["catno"])}</span>' if label.get("catno") else "")
        for label in release.get("labels") or [])
    formats = "; ".join(
        (f'{e(fmt["qty"])} × ' if fmt.get("qty") and str(fmt["qty"]) != "1" else "")
        + _link_or_text(str(fmt.get("name") or ""), "format", str(fmt.get("name") or "").strip(), facets["format"])
        + "".join(f", {e(d)}" for d in [*(fmt.get("descriptions") or []), fmt.get("text")] if d)
        for fmt in release.get("formats") or [])
    year = release_year(release.get("released"))
    released = _link_or_text(str(release.get("released") or ""), "year", year, facets["year"])
    decade = _link_or_text(f"{year[:3]}0s", "decade", f"{year[:3]}0", facets["decade"]) if year else ""
    country = str(release.get("country") or "")
    master = release.get("master_id")
    player, head = _player(release.get("videos") or [])
    kicker = "Release" + (f' · part of <a href="/masters/{int(master)}">a master release</a>' if master else "")
    facts = _facts([
        ("Label", labels), ("Format", formats),
        ("Country", _link_or_text(country, "country", country.strip(), facets["country"])),
        ("Released", released + (f" ({decade})" if decade else "")),
        ("Genre", _values_html("genre", release.get("genres") or [], facets["genre"])),
        ("Style", _values_html("style", release.get("styles") or [], facets["style"])),
    ])
    body = f"""  <article class="record">
    <p class="kicker">{kicker}</p>
    <h1>{e(title)}</h1>
    <p class="byline">{artists_html(release.get("artists") or [], facets["artist"])}</p>
{facts}
    <p class="out"><a href="{DISCOGS}/release/{int(rid)}" rel="noopener">This release on discogs.com</a>
      · <a href="/api/v1/releases/{int(rid)}">as JSON</a></p>
{player}
{_section("videos", "Videos", videos_html(release.get("videos") or [], int(rid)))}
{_section("tracks", "Tracklist", tracklist_html(release.get("tracklist") or []))}{_notes(release.get("notes"))}
  </article>"""
    return document(f"{heading} | {SITE}", body, f"{heading}: tracklist and videos", head)


def master_page(master: Master) -> str:
    mid = master["id"]
    title, heading = _title(master)
    # A master's own values are those its releases are filed under in the index.
    genres, styles = set(master.get("genres") or []), set(master.get("styles") or [])
    year = master.get("year")
    main = master.get("main_release")
    player, head = _player(master.get("videos") or [])
    facts = _facts([
        ("Year", _link_or_text(str(year), "year", str(year), {str(year)}) if year else ""),
        ("Genre", _values_html("genre", master.get("genres") or [], genres)),
        ("Style", _values_html("style", master.get("styles") or [], styles)),
        ("Main release", f'<a href="/releases/{int(main)}">release {int(main)}</a>' if main else ""),
    ])
    artists = {str(a.get("name") or "").strip() for a in master.get("artists") or []}
    body = f"""  <article class="record">
    <p class="kicker">Master release: what its versions share</p>
    <h1>{e(title)}</h1>
    <p class="byline">{artists_html(master.get("artists") or [], artists)}</p>
{facts}
    <p class="out"><a href="{DISCOGS}/master/{int(mid)}" rel="noopener">This master on discogs.com</a></p>
{player}
{_section("videos", "Videos", videos_html(master.get("videos") or []))}{_notes(master.get("notes"))}
  </article>"""
    return document(f"{heading} | {SITE}", body, f"{heading}: videos and versions", head)


def not_found_page(what: str) -> str:
    body = f"""  <article class="record not-found">
    <p class="kicker">404</p>
    <h1>Not found</h1>
    <p>{e(what)}</p>
    <p><a class="button" href="/">Pick music from the catalogue</a></p>
  </article>"""
    return document(f"Not found | {SITE}", body)
