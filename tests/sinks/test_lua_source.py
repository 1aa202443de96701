import re

import pytest

from sinks.lua_source import LUA_DIR, declared_uses, lua_text, prelude_chain, script_source

SCRIPTS = sorted(p.stem for p in LUA_DIR.glob("*.lua"))


def code(text: str) -> str:
    """Lua without comments and string contents, so only identifiers in code remain."""
    text = re.sub(r"--\[\[.*?\]\]", "", text, flags=re.S)
    text = re.sub(r"--[^\n]*", "", text)
    return re.sub(r"'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"", "''", text)


def top_level_locals(text: str) -> set[str]:
    names: set[str] = set()
    for found in re.finditer(r"^local function (\w+)|^local ([\w, ]+?)\s*=", code(text), re.M):
        names.update([found.group(1)] if found.group(1) else (n.strip() for n in found.group(2).split(",")))
    return names


def used_from_preludes(name: str) -> set[str]:
    offered = set().union(set(), *(top_level_locals(lua_text(p)) for p in prelude_chain(name)))
    return offered & set(re.findall(r"(?<![.:\w])([A-Za-z_]\w*)", code(lua_text(name))))


@pytest.mark.parametrize("name", SCRIPTS)
def test_each_script_declares_what_it_uses_from_its_preludes(name):
    assert sorted(declared_uses(name)) == sorted(used_from_preludes(name))


def test_preludes_come_first_and_once():
    assert prelude_chain("facet_counts") == ["common", "top"]
    source = script_source("facet_counts")
    assert source.count(lua_text("common")) == 1
    assert source.index(lua_text("common")) < source.index(lua_text("top")) < source.index(lua_text("facet_counts"))


def test_a_missing_declaration_is_seen():
    assert "key" in used_from_preludes("facet_counts")
    assert "typed_keys" in used_from_preludes("facet_counts") and "typed_keys" not in used_from_preludes("prefix_top")
