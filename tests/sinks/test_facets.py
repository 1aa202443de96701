from schemas.query import FACETS
from sinks.facets import fold, release_facets, release_videos, release_year

# Shaped like tgmz release 10222 (Depeche Mode - Violator, US CD) as the parser emits it.
VIOLATOR = {
    "id": 10222,
    "artists": [{"id": 2725, "name": "Depeche Mode", "anv": None, "join": None, "role": None, "tracks": None}],
    "extraartists": [{"id": 244044, "name": "Daryl Bamonte", "role": "Engineer [Assisted By]"}],
    "labels": [
        {"id": 27031, "name": "Sire", "catno": "9 26081-2"},
        {"id": 157, "name": "Reprise Records", "catno": "9 26081-2"},
        {"id": 26391, "name": "Mute", "catno": "9 26081-2"},
    ],
    "formats": [{"name": "CD", "qty": "1", "text": None, "descriptions": ["Album"]}],
    "genres": ["Electronic"],
    "styles": ["Synth-pop"],
    "country": "US",
    "released": "1990-03-20",
    "year": 1990,
    "master_id": 18080,
    "tracklist": [{"position": "1", "title": "World In My Eyes", "artists": [{"name": "Track Guest"}]}],
    "videos": [
        {"src": "https://www.youtube.com/watch?v=h1mD-_DKHc0", "youtube_id": "h1mD-_DKHc0", "duration": 356,
         "embed": True, "title": "Depeche Mode - Clean (Official Video)", "description": None},
        {"src": "http://www.youtube.com/watch?v=h1mD-_DKHc0", "youtube_id": None, "title": "duplicate"},
    ],
}


def test_release_facets_of_a_real_shaped_release():
    facets = release_facets(VIOLATOR)
    assert tuple(facets) == FACETS
    assert facets == {
        "genre": {"Electronic"},
        "style": {"Synth-pop"},
        "year": {"1990"},
        "decade": {"1990"},
        "country": {"US"},
        "label": {"Sire", "Reprise Records", "Mute"},
        "artist": {"Depeche Mode"},
        "format": {"CD"},
    }


def test_release_facets_strip_and_drop_empty_values():
    release = {
        "genres": [" Rock ", "", "  "],
        "styles": None,
        "country": "   ",
        "labels": [{"name": " Warp "}, {"name": None}, {"name": ""}],
        "artists": [],
        "formats": [{"name": "Vinyl"}, {"name": "Vinyl"}],
    }
    facets = release_facets(release)
    assert facets["genre"] == {"Rock"}
    assert facets["style"] == set() and facets["country"] == set() and facets["artist"] == set()
    assert facets["label"] == {"Warp"}
    assert facets["format"] == {"Vinyl"}
    assert facets["year"] == set() and facets["decade"] == set()


def test_year_comes_from_the_raw_released_string():
    assert release_year("1987-00-00") == "1987"
    assert release_year("2003") == "2003"
    assert release_year("0000-00-00") is None
    assert release_year("19??") is None
    assert release_year(None) is None
    facets = release_facets({"released": "1979-05-00", "year": 1234})
    assert facets["year"] == {"1979"} and facets["decade"] == {"1970"}
    assert release_facets({"released": "2000"})["decade"] == {"2000"}


def test_release_videos_dedupe_by_id_in_order():
    release = {
        "videos": [
            {"src": "https://www.youtube.com/watch?v=bbbbbbbbbbb", "youtube_id": None, "title": " B "},
            {"src": "https://vimeo.com/1234", "youtube_id": None, "title": "not youtube"},
            {"src": "https://youtu.be/aaaaaaaaaaa", "title": "A"},
            {"src": "https://www.youtube.com/embed/bbbbbbbbbbb", "title": "B again"},
            {"src": "x", "youtube_id": "ccccccccccc", "title": None},
        ]
    }
    assert release_videos(release) == [("bbbbbbbbbbb", "B"), ("aaaaaaaaaaa", "A"), ("ccccccccccc", "")]
    assert release_videos(VIOLATOR) == [("h1mD-_DKHc0", "Depeche Mode - Clean (Official Video)")]
    assert release_videos({"videos": None}) == []


def test_fold_is_case_and_accent_insensitive():
    assert fold("Björk") == "bjork"
    assert fold("  MOTÖRHEAD ") == "motorhead"
    assert fold("Straße") == "strasse"
    assert fold("Sigur Rós").startswith(fold("sigur ro"))
