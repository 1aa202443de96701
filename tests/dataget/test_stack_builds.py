"""Server binaries are built once per set of inputs: reused while the inputs stay the same, rebuilt when one changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from dataget.stack.builds import _built
from dataget.stack.process import StackError


def test_a_product_is_rebuilt_only_when_its_inputs_change(tmp_path: Path) -> None:
    source, product = tmp_path / "main.go", tmp_path / "out" / "server"
    source.write_text("v1")
    builds: list[str] = []

    def build() -> None:
        product.parent.mkdir(exist_ok=True)
        product.write_text(source.read_text())
        builds.append(source.read_text())

    for _ in range(2):
        assert _built(product, [source], "sh", "sh not found", build) == product
    source.write_text("v2")
    _built(product, [source], "sh", "sh not found", build)
    assert builds == ["v1", "v2"] and product.read_text() == "v2"


def test_a_missing_build_tool_is_named(tmp_path: Path) -> None:
    source = tmp_path / "pom.xml"
    source.write_text("<project/>")
    with pytest.raises(StackError, match="no-such-tool not found: run make setup"):
        _built(tmp_path / "libs", [source], "no-such-tool", "no-such-tool not found: run make setup", lambda: None)
