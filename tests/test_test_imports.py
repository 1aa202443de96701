"""No test module imports another: what tests share lives in conftest.py files and helper modules."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
TEST_MODULES = {p.stem for p in TESTS.rglob("test_*.py")}


def imports_of_test_modules(path: Path) -> dict[int, str]:
    """Line -> test module of this tree imported there (by package path, bare name or relative import)."""
    found: dict[int, str] = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names, relative = [alias.name for alias in node.names], False
        elif isinstance(node, ast.ImportFrom):
            base = [node.module] if node.module else []
            names = base + [".".join([*base, alias.name]) for alias in node.names]
            relative = node.level > 0
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[-1] in TEST_MODULES and (relative or len(parts) == 1 or parts[0] == "tests"):
                found[node.lineno] = name
    return found


def test_no_test_module_imports_another() -> None:
    found = {str(p.relative_to(TESTS)): imports_of_test_modules(p) for p in sorted(TESTS.rglob("*.py"))}
    assert {path: lines for path, lines in found.items() if lines} == {}


def test_the_rule_sees_each_way_of_importing_a_test_module(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from test_layers import ALLOWED\nimport tests.test_layers\nfrom . import test_layers\n"
                      "from .test_layers import ROOT\nfrom aiohttp.test_utils import TestClient\n"
                      "from tests import golden\n")
    assert sorted(imports_of_test_modules(module)) == [1, 2, 3, 4]
