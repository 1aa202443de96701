"""The facet index's Lua scripts, each with the preludes it declares.

A script names its preludes on a `-- prelude: a, b` line and what it takes from them on a `-- uses: x, y` line
(tests/sinks/test_lua_source.py keeps that list true). Preludes are prepended in dependency order, each once: all
scripts run as one Lua chunk, so a prelude's locals are the script's shared library.
"""

from __future__ import annotations

import re
from pathlib import Path

LUA_DIR = Path(__file__).with_name("lua")
_PRELUDE = re.compile(r"^-- prelude: *(.*)$", re.M)
_USES = re.compile(r"^-- uses: *(.*)$", re.M)


def _names(pattern: re.Pattern[str], text: str) -> list[str]:
    found = pattern.search(text)
    return [n.strip() for n in found.group(1).split(",") if n.strip()] if found else []


def lua_text(name: str) -> str:
    return (LUA_DIR / f"{name}.lua").read_text()


def declared_preludes(name: str) -> list[str]:
    return _names(_PRELUDE, lua_text(name))


def declared_uses(name: str) -> list[str]:
    return _names(_USES, lua_text(name))


def prelude_chain(name: str) -> list[str]:
    """The preludes a script needs, each before those that need it, each once."""
    order: list[str] = []
    for prelude in declared_preludes(name):
        for needed in [*prelude_chain(prelude), prelude]:
            if needed not in order:
                order.append(needed)
    return order


def script_source(name: str) -> str:
    return "\n".join(lua_text(part) for part in [*prelude_chain(name), name])
