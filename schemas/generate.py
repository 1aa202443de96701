"""JSON Schemas of the entity topics, generated from schemas/records.py; and the loader of any schema file.

`python -m schemas.generate` rewrites `schemas/discogs.<entity>.schema.json`. pydantic is a dev dependency and
is imported only while generating; `load_schema` is what runtime code uses.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from schemas.records import ENTITY_TYPES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_SUFFIX = ".schema.json"
# Same base as the hand-written schemas in this folder.
ID_BASE = "https://dataget.example/schemas/"


def schema_file_name(name: str) -> str:
    """`discogs.releases` -> `discogs.releases.schema.json` (a full file name is kept as it is)."""
    return name if name.endswith(SCHEMA_SUFFIX) else f"{name}{SCHEMA_SUFFIX}"


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema `<name>.schema.json` shipped in the schemas package (e.g. `discogs.releases`)."""
    resource = resources.files("schemas") / schema_file_name(name)
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    return schema


def _close_objects(node: Any) -> None:
    """Every object schema rejects unknown keys: a record with a field the types don't know is a bug."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            node["additionalProperties"] = False
        for value in node.values():
            _close_objects(value)
    elif isinstance(node, list):
        for value in node:
            _close_objects(value)


def entity_schema(entity: str) -> dict[str, Any]:
    """Draft 2020-12 JSON Schema of the records of `entity` (`releases|masters|artists|labels`)."""
    from pydantic import TypeAdapter

    record_type = ENTITY_TYPES[entity]
    body = TypeAdapter(record_type).json_schema(ref_template="#/$defs/{model}")
    _close_objects(body)
    topic = f"discogs.{entity}"
    return {
        "$schema": DRAFT,
        "$id": f"{ID_BASE}{schema_file_name(topic)}",
        **body,
        "title": f"{record_type.__name__} record ({topic})",
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    folder = Path(__file__).resolve().parent
    for entity in ENTITY_TYPES:
        target = folder / schema_file_name(f"discogs.{entity}")
        target.write_text(render(entity_schema(entity)), encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
