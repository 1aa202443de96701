"""The entity JSON Schemas: generated from schemas/records.py, committed unchanged, and true of every record."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from producers.records import iter_records, to_record
from schemas.generate import ID_BASE, entity_schema, load_schema, render
from schemas.records import ENTITY_TYPES

ENTITIES = list(ENTITY_TYPES)


@pytest.mark.parametrize("entity", ENTITIES)
def test_committed_schema_matches_the_types(entity):
    from importlib import resources

    committed = (resources.files("schemas") / f"discogs.{entity}.schema.json").read_text(encoding="utf-8")
    assert committed == render(entity_schema(entity)), "run: python -m schemas.generate"


@pytest.mark.parametrize("entity", ENTITIES)
def test_schema_is_valid_draft_2020_12(entity):
    schema = load_schema(f"discogs.{entity}")
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{ID_BASE}discogs.{entity}.schema.json"
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(ENTITY_TYPES[entity].__annotations__)


@pytest.mark.parametrize("entity", ENTITIES)
def test_every_fixture_record_validates(fixtures_dir, entity):
    validator = Draft202012Validator(load_schema(f"discogs.{entity}"))
    count = 0
    for path in sorted(fixtures_dir.glob(f"{entity}-sample-*.xml")):
        for item in iter_records(path):
            errors = list(validator.iter_errors(item.record))
            assert not errors, f"{entity} {item.record_id}: {errors[0].message} at {list(errors[0].path)}"
            count += 1
    assert count > 0


def test_schema_rejects_unknown_fields_and_wrong_types():
    from lxml import etree

    validator = Draft202012Validator(load_schema("discogs.releases"))
    record = to_record("releases", etree.fromstring(
        '<release id="1"><tracklist><track><title>x</title><sub_tracks><track><title>y</title></track>'
        "</sub_tracks></track></tracklist></release>"))
    assert validator.is_valid(record)
    nested = {**record, "tracklist": [{**record["tracklist"][0], "sub_tracks": [{"title": "y", "extra": 1}]}]}
    assert not validator.is_valid(nested)
    assert not validator.is_valid({**record, "surprise": 1})
    assert not validator.is_valid({**record, "master_id": "12"})


def test_load_schema_accepts_a_file_name():
    assert load_schema("discogs.labels.schema.json") == load_schema("discogs.labels")
    with pytest.raises(FileNotFoundError):
        load_schema("no.such.topic")
