import csv
import io

import pytest
from multidict import MultiDict
from web_fakes import FakeIndex, FakeStore, ListPublisher, catalog, web_settings

from schemas.query import SampleVideo
from web.app import create_app
from web.export import (
    CSV_COLUMNS,
    ExportRequest,
    file_name,
    parse_export,
    to_csv,
    to_m3u,
    watch_videos_links,
)
from web.query_params import QueryError

VIDEOS = [SampleVideo("abc", 7, "Köln, \"Part 1\""), SampleVideo("def", 0, "  two\nlines  "), SampleVideo("x", 9, "")]


def test_m3u_has_a_header_then_title_and_watch_url_per_video():
    assert to_m3u(VIDEOS) == (
        "#EXTM3U\n"
        '#EXTINF:-1,Köln, "Part 1"\nhttps://www.youtube.com/watch?v=abc\n'
        "#EXTINF:-1,two lines\nhttps://www.youtube.com/watch?v=def\n"
        "#EXTINF:-1,x\nhttps://www.youtube.com/watch?v=x\n"
    )


def test_csv_has_a_header_row_and_quotes_what_needs_it():
    table = list(csv.reader(io.StringIO(to_csv(VIDEOS))))
    assert table[0] == list(CSV_COLUMNS)
    assert table[1] == ["abc", 'Köln, "Part 1"', "7", "https://www.youtube.com/watch?v=abc",
                        "https://www.discogs.com/release/7"]
    assert table[2][2:] == ["", "https://www.youtube.com/watch?v=def", ""]  # no release known


def test_csv_cells_never_start_a_spreadsheet_formula():
    table = list(csv.reader(io.StringIO(to_csv([SampleVideo("v", 1, "=HYPERLINK(1)"), SampleVideo("w", 1, "-3")]))))
    assert [row[1] for row in table[1:]] == ["'=HYPERLINK(1)", "'-3"]


@pytest.mark.parametrize(("count", "sizes"), [(0, []), (1, [1]), (50, [50]), (51, [50, 1]), (120, [50, 50, 20])])
def test_watch_videos_links_hold_at_most_50_ids_in_order(count, sizes):
    ids = [f"id{n}" for n in range(count)]
    links = watch_videos_links(ids)
    assert all(link.startswith("https://www.youtube.com/watch_videos?video_ids=") for link in links)
    chunks = [link.split("=", 1)[1].split(",") for link in links]
    assert [len(c) for c in chunks] == sizes
    assert [i for chunk in chunks for i in chunk] == ids


def test_parse_export_tells_the_file_format_from_the_release_format_facet():
    wanted = parse_export(MultiDict([("format", "Vinyl"), ("format", "csv"), ("genre", "Jazz"), ("seed", "4")]))
    assert wanted.file_format == "csv"
    assert wanted.query.facets == {"genre": ("Jazz",), "format": ("Vinyl",)}
    assert (wanted.query.limit, wanted.query.seed) == (500, 4)
    assert isinstance(parse_export(MultiDict([("format", "m3u")])).query.seed, int)  # a seed is always chosen


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([], "format: give exactly one of m3u, json, csv, links"),
        ([("format", "xml")], "format: give exactly one of"),
        ([("format", "csv"), ("format", "json")], "format: give exactly one of"),
        ([("format", "csv"), ("limit", "5001")], "limit: must be between 1 and 5000"),
        ([("format", "csv"), ("limit", "0")], "limit: must be between 1 and 5000"),
        ([("format", "csv"), ("limit", "9" * 40)], "limit: "),
        ([("format", "csv"), ("colour", "red")], "unknown parameter(s): colour"),
    ],
)
def test_parse_export_refuses_bad_parameters_clearly(params, message):
    with pytest.raises(QueryError) as error:
        parse_export(MultiDict(params))
    assert str(error.value).startswith(message)


def test_file_names_are_ascii_from_the_facets_and_the_seed():
    wanted = parse_export(MultiDict([("format", "m3u"), ("artist", "Björk"), ("style", "Drum n Bass"), ("seed", "3")]))
    assert file_name(wanted) == "dataget-drum-n-bass-bjork-seed3.m3u"
    assert file_name(ExportRequest(parse_export(MultiDict([("format", "json"), ("seed", "1")])).query, "json")) == (
        "dataget-all-seed1.json"
    )
    long = parse_export(MultiDict([("format", "csv"), ("label", "x" * 250), ("genre", '"; rm -rf /')]))
    assert len(file_name(long)) < 90 and '"' not in file_name(long) and "/" not in file_name(long)


# ---- the route, against a brute-force computation over the fake catalogue -------------------------------------
@pytest.fixture
async def client(aiohttp_client):
    index = FakeIndex(releases=catalog(400))  # 100 Jazz releases, 200 Jazz videos; 800 videos in all
    app = create_app(web_settings(), index=index.provider, store=FakeStore(), publisher=ListPublisher(),
                     follow_status_topic=False)
    return await aiohttp_client(app)


def brute_force(genre=None):
    """video id -> (release id, title) of every video of the selection."""
    return {v: (r.release_id, f"Title of {v}") for r in catalog(400)
            if genre is None or genre in r.facets["genre"] for v in r.videos}


async def test_json_export_is_every_video_of_the_selection_once(client):
    resp = await client.get("/api/v1/export?genre=Jazz&format=json&limit=5000&seed=8")
    assert resp.status == 200 and resp.content_type == "application/json"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="dataget-jazz-seed8.json"'
    videos = await resp.json()
    expected = brute_force("Jazz")
    assert len(videos) == len(expected) == 200
    assert {v["video_id"]: (v["release_id"], v["title"]) for v in videos} == expected
    assert all(v["url"] == f"https://www.youtube.com/watch?v={v['video_id']}" for v in videos)
    # The same seed gives the same list; another seed another order.
    again = await (await client.get("/api/v1/export?genre=Jazz&format=json&limit=5000&seed=8")).json()
    other = await (await client.get("/api/v1/export?genre=Jazz&format=json&limit=5000&seed=9")).json()
    assert again == videos and other != videos and sorted(map(str, other)) == sorted(map(str, videos))


async def test_the_limit_cuts_the_selection_and_defaults_to_500(client):
    some = await (await client.get("/api/v1/export?genre=Jazz&format=json&limit=30&seed=1")).json()
    assert len({v["video_id"] for v in some}) == 30 and {v["video_id"] for v in some} <= brute_force("Jazz").keys()
    default = await (await client.get("/api/v1/export?format=json&seed=1")).json()
    assert len({v["video_id"] for v in default}) == 500 and {v["video_id"] for v in default} <= brute_force().keys()


async def test_m3u_and_csv_hold_the_same_list_as_json(client):
    query = "genre=Rock&seed=5&limit=60"
    listed = [v["video_id"] for v in await (await client.get(f"/api/v1/export?{query}&format=json")).json()]
    m3u = await client.get(f"/api/v1/export?{query}&format=m3u")
    assert m3u.content_type == "audio/x-mpegurl"
    assert m3u.headers["Content-Disposition"].endswith('filename="dataget-rock-seed5.m3u"')
    lines = (await m3u.text()).splitlines()
    assert lines[0] == "#EXTM3U" and len(lines) == 1 + 2 * 60
    assert [line.removeprefix("https://www.youtube.com/watch?v=") for line in lines[2::2]] == listed
    assert all(line == f"#EXTINF:-1,Title of {v}" for line, v in zip(lines[1::2], listed, strict=True))
    table = list(csv.DictReader(io.StringIO(await (await client.get(f"/api/v1/export?{query}&format=csv")).text())))
    assert [row["video_id"] for row in table] == listed
    assert all(int(row["release_id"]) == brute_force()[row["video_id"]][0] for row in table)


async def test_links_open_the_selection_in_chunks_of_50(client):
    resp = await client.get("/api/v1/export?genre=Jazz&format=links&limit=120&seed=2")
    answer = await resp.json()
    listed = [v["video_id"] for v in await (await client.get(
        "/api/v1/export?genre=Jazz&format=json&limit=120&seed=2")).json()]
    assert answer["videos"] == 120 and len(answer["links"]) == 3
    assert [i for link in answer["links"] for i in link.split("video_ids=")[1].split(",")] == listed


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("genre=Jazz&format=pdf", "format: give exactly one of"),
        ("genre=Jazz", "format: give exactly one of"),
        ("format=csv&limit=100000", "limit: must be between 1 and 5000"),
        ("format=csv&limit=-1", "limit: must be between 1 and 5000"),
        ("format=csv&limit=ten", "limit: 'ten' is not an integer"),
        ("format=csv&decade=1975", "decade: '1975' is not a multiple of 10"),
    ],
)
async def test_bad_parameters_are_a_400_with_a_clear_message(client, query, message):
    resp = await client.get(f"/api/v1/export?{query}")
    assert resp.status == 400
    assert (await resp.json())["error"].startswith(message)


async def test_an_oversized_request_is_refused(client):
    resp = await client.get("/api/v1/export?format=csv&genre=" + "x" * 20000)
    assert resp.status in (400, 414)
