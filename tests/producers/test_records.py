"""to_record against every record of the real dump excerpts (both eras), plus the documented quirks."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from lxml import etree

from producers.records import RecordError, excerpt, iter_records, to_json, to_record
from producers.records_fields import WS, split_released

ENTITIES = ("releases", "masters", "artists", "labels")
FILES = [f"{entity}-sample-{source}.xml{gz}" for entity in ENTITIES
         for source in ("philipmat-20200806", "tgmz-2025-2026") for gz in ("", ".gz")]
# Values the contract maps 0 -> null (unlinked credit, no master, unknown year).
ZERO_IS_NULL = {"id", "master_id", "year", "main_release"}


def leaf_values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from leaf_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaf_values(item)
    elif isinstance(value, bool):
        yield "true" if value else "false"
    elif value is not None:
        yield str(value)


def xml_values(elem: etree._Element) -> Iterator[tuple[str, str]]:
    """(where, value) of every non-empty stripped text and attribute value under elem."""
    for node in elem.iter():
        text = (node.text or "").strip(WS)
        if text and not (text == "0" and node.tag in ZERO_IS_NULL):
            yield node.tag, text
        for name, raw in node.attrib.items():
            value = raw.strip(WS)
            if value and not (value == "0" and name == "id"):
                yield f"{node.tag}/@{name}", value


def records_by_id(fixtures_dir: Path, name: str) -> dict[int, dict[str, Any]]:
    items = list(iter_records(fixtures_dir / name))
    assert all(item.error is None for item in items)
    return {item.record_id: item.record for item in items}


@pytest.mark.parametrize("name", FILES)
def test_every_xml_value_is_in_the_record(fixtures_dir, name):
    entity = name.split("-", 1)[0]
    root = etree.parse(str(fixtures_dir / name.removesuffix(".gz"))).getroot()
    assert root.tag == entity
    for elem in root:
        record = to_record(entity, elem)
        # JSON-serialisable, and the id is the int of the record's id.
        assert orjson.loads(orjson.dumps(record)) == record
        raw_id = elem.get("id") if entity in ("releases", "masters") else elem.findtext("id")
        assert record["id"] == int(raw_id)
        values = set(leaf_values(record))
        missing = [(where, value) for where, value in xml_values(elem) if value not in values]
        assert not missing, f"{entity} {record['id']}: {missing[:5]}"


def test_release_quirks_2025(fixtures_dir):
    releases = records_by_id(fixtures_dir, "releases-sample-tgmz-2025-2026.xml")
    unlinked = [c for c in releases[10222]["extraartists"] if c["name"] == "Martin L. Gore" and c["id"] is None]
    assert unlinked and unlinked[0]["role"]
    track_artists = [a for t in releases[527839]["tracklist"] for a in t["artists"]]
    assert any(a["name"] == "Kéli" and a["id"] is None for a in track_artists)
    assert releases[2323]["status"] is None and releases[2324]["status"] is None
    assert all(c["resource_url"] is None for c in releases[2323]["companies"])
    assert releases[10222]["status"] == "Accepted"
    assert releases[10222]["master_id"] == 18080 and releases[10222]["is_main_release"] is False
    no_master = [r for r in releases.values() if r["master_id"] is None]
    assert len(no_master) == 4 and all(r["is_main_release"] is False for r in no_master)
    assert releases[3870362]["is_main_release"] is True
    assert len(releases[4957101]["tracklist"]) == 571
    sub_tracks = sum(len(t["sub_tracks"]) for r in releases.values() for t in r["tracklist"])
    assert sub_tracks == 328
    assert {s["id"] for r in (releases[10526741], releases[20279608]) for s in r["series"]} - {None}
    assert releases[2323]["artists"] == [
        {"id": 231513, "name": "GusGus", "anv": None, "join": None, "role": None, "tracks": None}]
    assert all(r["images"] == [] for r in releases.values())


def test_release_quirks_2020(fixtures_dir):
    releases = records_by_id(fixtures_dir, "releases-sample-philipmat-20200806.xml")
    first = releases[22]
    assert first["status"] == "Accepted"
    assert (first["released"], first["year"], first["month"], first["day"]) == ("2000", 2000, None, None)
    assert first["notes"].startswith("All tracks written") and "\r\n" in first["notes"]
    assert first["master_id"] == 1062744 and first["is_main_release"] is True
    assert first["formats"] == [{"name": "Vinyl", "qty": "1", "text": None, "descriptions": ['12"', "33 ⅓ RPM"]}]
    assert first["identifiers"][0] == {"type": "Rights Society", "description": None, "value": "BMI"}
    assert first["images"][0] == {"type": "secondary", "uri": None, "uri150": None, "width": 600, "height": 600}
    video = first["videos"][0]
    assert video == {"src": "https://www.youtube.com/watch?v=ODQMlp56fy4", "youtube_id": "ODQMlp56fy4",
                     "duration": 440, "embed": True, "title": "Chris Gray - Sweetness You Bring",
                     "description": "http://www.discogs.com/Chris-Gray-Sweetness-You-Bring/release/22"}
    assert first["artists"][0] == {"id": 57, "name": "Chris Gray", "anv": None, "join": None, "role": None,
                                   "tracks": None}
    without_master = [r for r in releases.values() if r["master_id"] is None]
    assert len(without_master) == 10 and all(r["is_main_release"] is None for r in without_master)
    assert sum(1 for r in releases.values() if r["is_main_release"] is True) == 8
    assert sum(1 for r in releases.values() if any(t["sub_tracks"] for t in r["tracklist"])) == 1
    assert sum(1 for r in releases.values() if r["released"] is None) == 2
    videos = [v for r in releases.values() for v in r["videos"]]
    assert len(videos) == 68 and all(v["youtube_id"] and isinstance(v["duration"], int) for v in videos)


def test_masters(fixtures_dir):
    masters = records_by_id(fixtures_dir, "masters-sample-tgmz-2025-2026.xml")
    violator = masters[18080]
    assert violator["main_release"] and violator["notes"] and violator["year"] == 1990
    assert len(violator["videos"]) == 7 and any(v["duration"] == 0 for v in violator["videos"])
    assert violator["artists"][0]["join"] == ","
    assert all(v["description"] is None for v in masters[482870]["videos"])
    assert masters[482870]["main_release"] == 3870362
    old = records_by_id(fixtures_dir, "masters-sample-philipmat-20200806.xml")
    assert sum(1 for m in old.values() if m["year"] is None) == 4


def test_artist_members_all_shapes(fixtures_dir):
    artists = records_by_id(fixtures_dir, "artists-sample-tgmz-2025-2026.xml")
    members = artists[2725]["members"]
    assert {"id": 25411, "name": "Alan Wilder"} in members
    assert all(isinstance(m["id"], int) and m["name"] for m in members)
    assert max(len(a["namevariations"]) for a in artists.values()) == 287
    assert max(len(a["members"]) for a in artists.values()) == 299
    old = records_by_id(fixtures_dir, "artists-sample-philipmat-20200806.xml")
    # 2020: `<id>` and `<name id>` both present; each member once, not twice.
    assert sum(len(a["members"]) for a in old.values()) == 9
    assert all(m["id"] and m["name"] for a in old.values() for m in a["members"])
    assert old[32]["aliases"][0] == {"id": 33, "name": "Blue Six"} and old[32]["profile"] is None
    # 2017 shape: `<id>` and plain `<name>` alternate; paired by position.
    elem = etree.fromstring("<artist><id>7</id><name>Band</name><members><id>1</id><name>Ann</name>"
                            "<id>2</id><name>Bob</name></members></artist>")
    assert to_record("artists", elem)["members"] == [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bob"}]


def test_labels_parent_and_sublabels(fixtures_dir):
    labels = records_by_id(fixtures_dir, "labels-sample-tgmz-2025-2026.xml")
    assert labels[157]["parent_label"] == {"id": 315857, "name": "Reprise Records Inc."}
    assert {"id": 240, "name": "Kinetic Records"} in labels[157]["sublabels"]
    assert sum(len(label["sublabels"]) for label in labels.values()) == 343
    assert all(s["id"] and s["name"] for label in labels.values() for s in label["sublabels"])
    assert any("\r\n" in (label["profile"] or "") for label in labels.values())
    old = records_by_id(fixtures_dir, "labels-sample-philipmat-20200806.xml")
    # The extraction tool emptied every sub-label there: empty entries carry nothing and are dropped.
    assert all(label["sublabels"] == [] for label in old.values())
    assert sum(1 for label in old.values() if label["parent_label"]) == 4
    empty_parent = etree.fromstring('<label><id>9</id><name>X</name><parentLabel id="212"/><urls/></label>')
    record = to_record("labels", empty_parent)
    assert record["parent_label"] == {"id": 212, "name": None} and record["urls"] == []


def test_empty_and_omitted_elements_are_the_same():
    written = etree.fromstring(
        '<release id="5"><artists><artist><id>0</id><name>A</name><anv/><join> </join><role></role><tracks/>'
        "</artist></artists><title>T</title><genres/><notes>  </notes><master_id>0</master_id><tracklist>"
        "<track><position/><title>Set 1</title><duration/></track></tracklist></release>")
    omitted = etree.fromstring(
        '<release id="5"><artists><artist><id>0</id><name>A</name></artist></artists><title>T</title>'
        "<tracklist><track><title>Set 1</title></track></tracklist></release>")
    assert to_record("releases", written) == to_record("releases", omitted)
    record = to_record("releases", omitted)
    assert record["artists"][0]["id"] is None and record["master_id"] is None and record["notes"] is None


def test_nbsp_only_name_is_kept():
    elem = etree.fromstring("<artist><id>3</id><name>\u00a0</name></artist>")
    assert to_record("artists", elem)["name"] == "\u00a0"


@pytest.mark.parametrize(("released", "expected"), [
    ("1997-03-24", (1997, 3, 24)), ("1990", (1990, None, None)), ("1985-00-00", (1985, None, None)),
    ("1985-06-00", (1985, 6, None)), ("0000", (None, None, None)), ("19??", (None, None, None)),
    (None, (None, None, None)), ("2001-13-40", (2001, None, None)), ("197²", (None, None, None)),
    ("1999-²-1", (1999, None, 1)), ("", (None, None, None)),
])
def test_split_released(released, expected):
    assert split_released(released) == expected


@pytest.mark.parametrize(("xml", "entity", "record_id", "reason"), [
    ('<release id="abc"><title>x</title></release>', "releases", None, "not an integer"),
    ("<release><title>x</title></release>", "releases", None, "missing id"),
    ("<artist><name>x</name></artist>", "artists", None, "missing id"),
    ('<master id="0"/>', "masters", None, "not positive"),
    (f'<release id="{2**63}"/>', "releases", None, "out of range"),
    ('<release id="4"><videos><video src="s" duration="long"/></videos></release>', "releases", 4,
     "video duration"),
    ("<label><id>8</id><sublabels><label id='x'>S</label></sublabels></label>", "labels", 8, "label id"),
    ('<release id="6"><master_id is_main_release="maybe">3</master_id></release>', "releases", 6, "boolean"),
])
def test_malformed_records_raise_record_error(xml, entity, record_id, reason):
    with pytest.raises(RecordError) as info:
        to_record(entity, etree.fromstring(xml))
    assert info.value.entity == entity and info.value.record_id == record_id
    assert reason in info.value.reason


def test_excerpt_is_bounded():
    elem = etree.fromstring("<release id='1'>" + "<track><title>t</title></track>" * 500 + "</release>")
    text = excerpt(elem, limit=100)
    assert len(text) == 100 and text.startswith('<release id="1">')
    small = etree.fromstring("<release id='1'/>")
    assert excerpt(small) == '<release id="1"/>'


def test_names_without_ids_2017():
    elem = etree.fromstring("<artist><id>4</id><name>P</name><aliases><name>Old Alias</name></aliases>"
                            "<groups><name id='0'>Gone</name></groups></artist>")
    record = to_record("artists", elem)
    assert record["aliases"] == [{"id": None, "name": "Old Alias"}]
    assert record["groups"] == [{"id": None, "name": "Gone"}]


def test_json_is_what_orjson_writes_for_awkward_text():
    # record_tree writes the JSON itself: escapes, the control characters XML allows, CDATA-split and non-ASCII
    # text must come out byte for byte as orjson writes them, or content hashes would change between versions.
    elem = etree.fromstring(
        '<release id="9" status="A&quot;&lt;&amp;"><title>\n a&#13;b\t&#9;c&#127; </title>'
        "<notes><![CDATA[x<y]]> and <![CDATA[ more ]]></notes><genres><genre>\\ \"q\" / é 😀</genre></genres>"
        "</release>")
    _, value = to_json("releases", elem)
    record = orjson.loads(value)
    assert value == orjson.dumps(record)
    assert record["status"] == 'A"<&' and record["title"] == "a\rb\t\tc\x7f"
    assert record["notes"] == "x<y and  more" and record["genres"] == ['\\ "q" / é 😀']


@pytest.mark.parametrize(("raw", "expected"), [
    ("007", 7), ("+5", 5), ("1_000", 1000), ("-3", -3), ("999999999999999999", 999999999999999999),
    ("18446744073709551615", 2**64 - 1),
])
def test_integer_spellings_python_accepts(raw, expected):
    elem = etree.fromstring(f'<release id="1"><images><image width="{raw}"/></images></release>')
    assert to_record("releases", elem)["images"][0]["width"] == expected


def test_integer_beyond_json_range_is_a_malformed_record():
    elem = etree.fromstring(f'<release id="1"><images><image width="{2**64}"/></images></release>')
    with pytest.raises(RecordError, match="image width is out of range"):
        to_record("releases", elem)


def test_comments_and_processing_instructions_are_not_data():
    elem = etree.fromstring("<release id='2'><!-- c --><genres><!-- not a genre --><genre>Jazz</genre><?pi x?>"
                            "</genres><title><!-- lead -->T</title></release>")
    record = to_record("releases", elem)
    assert record["genres"] == ["Jazz"] and record["title"] is None  # `.text` stops at the first child node


ODD_VALUES = ["", " ", "0", "-1", "+7", "1_0", str(2**64), "x", "\t\r\n", "é\u00a0", '"\\', "true", "FALSE", "٣"]


def mutated(elem: etree._Element, rng: random.Random) -> etree._Element:
    """A copy of a record element with a few children dropped or repeated, odd texts, attributes and CDATA."""
    elem = copy.deepcopy(elem)
    for _ in range(rng.randint(1, 6)):
        node = rng.choice([n for n in elem.iter() if isinstance(n.tag, str)])
        op = rng.random()
        if op < 0.2 and node.getparent() is not None:
            node.getparent().remove(node)
        elif op < 0.35 and node.getparent() is not None:
            node.getparent().append(copy.deepcopy(node))
        elif op < 0.55:
            node.text = rng.choice(ODD_VALUES)
        elif op < 0.7 and node.attrib:
            node.set(rng.choice(list(node.attrib)), rng.choice(ODD_VALUES))
        elif op < 0.85:
            node.text = etree.CDATA(rng.choice(["a]b", " x ", "", "<&>"]))
        else:
            child = etree.SubElement(node, rng.choice(["id", "name", "video", "artist", "track", "title"]))
            child.text = rng.choice(ODD_VALUES)
            node.append(etree.Comment("c"))
    return elem


def test_mutated_records_give_orjson_identical_json_or_a_record_error(fixtures_dir):
    # The C writer against inputs no dump has: it must never crash or write JSON that orjson would write otherwise.
    rng = random.Random(7)
    elems = [(name.split("-", 1)[0], elem) for name in FILES if not name.endswith(".gz")
             for elem in etree.parse(str(fixtures_dir / name)).getroot() if isinstance(elem.tag, str)]
    outcomes = {"json": 0, "error": 0}
    for _ in range(3000):
        entity, elem = rng.choice(elems)
        try:
            _, value = to_json(entity, mutated(elem, rng))
        except RecordError:
            outcomes["error"] += 1
            continue
        assert orjson.dumps(orjson.loads(value)) == value
        outcomes["json"] += 1
    assert outcomes["json"] > 1000 and outcomes["error"] > 100


@pytest.mark.parametrize(("src", "youtube_id"), [
    ("https://www.youtube.com/watch?v=ODQMlp56fy4", "ODQMlp56fy4"),
    ("https://www.youtube.com/watch?v=abc", None),  # too short: kept in src, no id
    ("https://www.youtube.com/watch?v=has space", None),
    ("https://www.youtube.com/embed/ODQMlp56fy4?v=XXXXXXXXXXX", "ODQMlp56fy4"),  # as the index reads it
])
def test_a_video_id_is_published_only_when_valid(src, youtube_id):
    from sinks.facets import release_videos

    elem = etree.fromstring(f'<release id="5"><title>T</title><videos><video src="{src}" duration="1" '
                            f'embed="true"><title>V</title></video></videos></release>')
    record = to_record("releases", elem)
    assert record["videos"][0]["src"] == src and record["videos"][0]["youtube_id"] == youtube_id
    assert [vid for vid, _ in release_videos(record)] == ([youtube_id] if youtube_id else [])
