"""The API description served: /api/v1/openapi.json, and /api, the same description as a page for people."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from web.caching import DESCRIPTION_CACHE, cached
from web.openapi import openapi_document
from web.page_html import document, e

Doc = dict[str, Any]
EXAMPLE = "/api/v1/query?genre=Jazz&amp;decade=1960&amp;limit=5"


def schema_text(schema: Doc, doc: Doc) -> str:
    """A parameter's or field's type and limits in a few words."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{e(name)}">{e(name)}</a>'
    if "enum" in schema:
        return "one of " + ", ".join(f"<code>{e(v)}</code>" for v in schema["enum"])
    for choice in ("oneOf", "anyOf"):
        if choice in schema:
            return " or ".join(schema_text(s, doc) for s in schema[choice])
    kind = schema.get("type", "any")
    kind = " or ".join(kind) if isinstance(kind, list) else kind
    if kind == "array":
        most = f", at most {schema['maxItems']}" if "maxItems" in schema else ""
        return f"list of {schema_text(schema.get('items', {}), doc)}{most}"
    limits = []
    if "minimum" in schema and "maximum" in schema:
        limits.append(f"{schema['minimum']}–{schema['maximum']}")
    if "maxLength" in schema:
        limits.append(f"≤ {schema['maxLength']} characters")
    if "pattern" in schema:
        limits.append(f"<code>{e(schema['pattern'])}</code>")
    if "default" in schema:
        limits.append(f"default {e(schema['default'])}")
    return e(kind) + (f" ({'; '.join(limits)})" if limits else "")


def _parameters(parameters: list[Doc], doc: Doc) -> str:
    if not parameters:
        return ""
    rows = "".join(
        f"<tr><td><code>{e(p['name'])}</code></td><td>{e(p['in'])}</td><td>{schema_text(p['schema'], doc)}</td>"
        f"<td>{e(p.get('description', ''))}</td></tr>"
        for p in parameters)
    return ('<div class="scroll"><table class="params"><thead><tr><th scope="col">Parameter</th><th scope="col">In'
            '</th><th scope="col">Type</th><th scope="col">Meaning</th></tr></thead><tbody>'
            f"{rows}</tbody></table></div>")


def _responses(responses: Doc, doc: Doc) -> str:
    items = []
    for status, response in responses.items():
        shapes = [f"{e(kind)}: {schema_text(body['schema'], doc)}"
                  for kind, body in response.get("content", {}).items()]
        shape = f" — {'; '.join(shapes)}" if shapes else ""
        items.append(f"<li><strong>{e(status)}</strong> {e(response['description'])}{shape}</li>")
    return f'<ul class="responses">{"".join(items)}</ul>'


def _operation(path: str, method: str, op: Doc, doc: Doc) -> str:
    body = ""
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        body = f"<p>Body (JSON): {schema_text(schema, doc)}</p>"
    auth = '<p class="hint">Needs a signed-in session.</p>' if op.get("security") else ""
    description = f"<p>{prose(op['description'])}</p>" if "description" in op else ""
    return (f'<section class="operation" id="{e(op["operationId"])}" aria-labelledby="{e(op["operationId"])}-h">'
            f'<h3 id="{e(op["operationId"])}-h"><span class="method">{e(method.upper())}</span> '
            f'<code>{e(path)}</code></h3><p>{e(op["summary"])}</p>{description}{auth}'
            f"{_parameters(op.get('parameters', []), doc)}{body}{_responses(op['responses'], doc)}</section>")


def _schema_section(name: str, schema: Doc, doc: Doc) -> str:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{e(field)}</code>{'' if field in required else ' (optional)'}</td>"
        f"<td>{schema_text(sub, doc)}</td><td>{e(sub.get('description', ''))}</td></tr>"
        for field, sub in properties.items())
    table = ('<div class="scroll"><table class="params"><thead><tr><th scope="col">Field</th><th scope="col">Type'
             f'</th><th scope="col">Meaning</th></tr></thead><tbody>{rows}</tbody></table></div>') if rows else ""
    about = schema.get("description") or schema.get("title") or ""
    return (f'<section id="schema-{e(name)}" aria-labelledby="schema-{e(name)}-h"><h3 id="schema-{e(name)}-h">'
            f"{e(name)}</h3>{f'<p>{e(about)}</p>' if about else ''}{table}</section>")


def prose(text: str) -> str:
    """A description's text as HTML: `code` spans become <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", e(text))


def _shapes(doc: Doc) -> list[str]:
    """A section per component schema, and per definition inside one (a record's Credit, Track, ...)."""
    sections = []
    for name, schema in doc["components"]["schemas"].items():
        sections.append(_schema_section(name, schema, doc))
        sections += [_schema_section(sub, inner, doc) for sub, inner in schema.get("$defs", {}).items()]
    return sections


def api_page(doc: Doc) -> str:
    info = doc["info"]
    operations = [
        _operation(path, method, op, doc)
        for path, methods in doc["paths"].items()
        if path.startswith(("/api/", "/ws/", "/auth/"))
        for method, op in methods.items()
    ]
    shapes = _shapes(doc)
    body = f"""  <article class="record api">
    <p class="kicker">API {e(info["version"])} · OpenAPI {e(doc["openapi"])}</p>
    <h1>The Dataget API</h1>
    <p>{e(info["summary"])}. {prose(info["description"])}</p>
    <p>The machine-readable description: <a href="/api/v1/openapi.json"><code>/api/v1/openapi.json</code></a>.
      Example: <a href="{EXAMPLE}"><code>{EXAMPLE}</code></a></p>
    <section aria-labelledby="routes-h"><h2 id="routes-h">Routes</h2>
{"".join(operations)}
    </section>
    <section aria-labelledby="shapes-h"><h2 id="shapes-h">Shapes</h2>
{"".join(shapes)}
    </section>
  </article>"""
    return document("API | Discogs Dataget", body, "The Discogs Dataget REST API")


def _constant(body: bytes, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        response = web.Response(body=body, content_type=content_type, charset="utf-8")
        return cached(request, response, DESCRIPTION_CACHE)

    return handler


def add_routes(app: web.Application) -> None:
    doc = openapi_document()
    app.router.add_get("/api/v1/openapi.json", _constant(orjson.dumps(doc), "application/json"))
    app.router.add_get("/api", _constant(api_page(doc).encode(), "text/html"))
