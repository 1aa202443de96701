"""Imports point one way: each package may import only the packages below it (the README draws the picture)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What each package may import from the project, besides itself.
ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "runtime": {"schemas"},
    "producers": {"schemas", "runtime"},
    "sinks": {"schemas", "runtime"},
    "stream_processors": {"schemas", "runtime", "sinks"},
    "web": {"schemas", "runtime", "sinks"},
    "dataget": {"schemas", "runtime", "producers", "sinks", "stream_processors", "web"},
}


def project_imports(path: Path) -> set[str]:
    """Top-level project packages a module imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in ALLOWED)
    return found


def modules() -> list[Path]:
    return sorted(p for package in ALLOWED for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path):
    package = path.relative_to(ROOT).parts[0]
    upward = project_imports(path) - ALLOWED[package] - {package}
    allowed = sorted(ALLOWED[package])
    assert not upward, f"{path.relative_to(ROOT)} imports {sorted(upward)}; {package} may import {allowed}"


def test_the_rule_sees_an_upward_import(tmp_path: Path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from web.app import create_app\n    import sinks.facets\n")
    assert project_imports(module) == {"web", "sinks"}
