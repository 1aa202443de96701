import pytest
from multidict import MultiDict

from schemas.query import DEFAULT_LIMIT, MAX_LIMIT
from web.query_params import QueryError, parse_query, query_from_json, query_to_json


def q(*pairs):
    return parse_query(MultiDict(pairs))


def test_empty_query_is_everything_with_defaults():
    query = q()
    assert query.facets == {}
    assert (query.limit, query.unique, query.seed) == (DEFAULT_LIMIT, None, None)


def test_repeated_facets_are_ored_and_deduplicated_in_canonical_order():
    query = q(("style", "House"), ("genre", "Jazz"), ("genre", "Rock"), ("genre", "Jazz"))
    assert list(query.facets) == ["genre", "style"]
    assert query.facets["genre"] == ("Jazz", "Rock")


def test_options_are_parsed():
    query = q(("year", "1977"), ("decade", "1970"), ("limit", "500"), ("unique", "master"), ("seed", "42"))
    assert (query.limit, query.unique, query.seed) == (MAX_LIMIT, "master", 42)
    assert query.facets == {"year": ("1977",), "decade": ("1970",)}


def test_values_are_stripped():
    assert q(("country", "  UK ")).facets == {"country": ("UK",)}


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([("colour", "red")], "unknown parameter"),
        ([("genre", "")], "empty value"),
        ([("genre", "   ")], "empty value"),
        ([("year", "77")], "4-digit"),
        ([("year", "19777")], "4-digit"),
        ([("year", "abcd")], "4-digit"),
        ([("decade", "1975")], "multiple of 10"),
        ([("decade", "70s")], "4-digit"),
        ([("limit", "0")], "between 1 and"),
        ([("limit", str(MAX_LIMIT + 1))], "between 1 and"),
        ([("limit", "ten")], "not an integer"),
        ([("limit", "")], "empty value"),
        ([("limit", "5"), ("limit", "6")], "more than once"),
        ([("unique", "release")], "unique"),
        ([("seed", "x")], "not an integer"),
    ],
)
def test_errors(pairs, message):
    with pytest.raises(QueryError, match=message):
        q(*pairs)


def test_json_round_trip():
    obj = {"genre": ["Jazz"], "decade": ["1960"], "unique": "master", "seed": 7}
    query = query_from_json(obj, limit=1200, max_limit=5000)
    assert query.limit == 1200
    assert query_to_json(query) == obj


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "must be an object"),
        ({"genre": "Jazz"}, "list of strings"),
        ({"genre": [1]}, "strings"),
        ({"limit": 5}, "max_videos"),
        ({"seed": True}, "not an integer"),
        ({"shape": ["round"]}, "unknown parameter"),
    ],
)
def test_json_errors(obj, message):
    with pytest.raises(QueryError, match=message):
        query_from_json(obj, limit=10, max_limit=5000)


def test_a_route_may_set_its_own_default_and_maximum_limit():
    assert parse_query(MultiDict([("genre", "Jazz")]), default_limit=500, max_limit=5000).limit == 500
    assert parse_query(MultiDict([("limit", "5000")]), max_limit=5000).limit == 5000
    with pytest.raises(QueryError, match="between 1 and 5000"):
        parse_query(MultiDict([("limit", "5001")]), max_limit=5000)


def test_an_error_quotes_unknown_names_cut_short():
    with pytest.raises(QueryError) as error:
        q(*[(f"{n}" + "x" * 1000, "v") for n in range(50)])
    assert len(str(error.value)) < 400 and str(error.value).count("x" * 30) <= 5
