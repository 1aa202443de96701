"""Golden files (tests/golden/*.json): what must not drift, compared exactly.

DATAGET_UPDATE_GOLDEN=1 rewrites them from what the code produces now instead of comparing; see tests/golden/README.md
for when that is right.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).with_name("golden")
UPDATE_ENV = "DATAGET_UPDATE_GOLDEN"
# Differences listed in a failure message, at most.
SHOWN = 10


def _render(value: dict[str, Any]) -> str:
    """One line per entry, sorted, so a change shows in a diff as the entries it touched."""
    lines = (f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(item, sort_keys=True, ensure_ascii=False)}"
             for key, item in sorted(value.items()))
    return "{\n" + ",\n".join(lines) + "\n}\n"


def check_golden(name: str, actual: dict[str, Any]) -> None:
    """Assert that actual equals the golden file tests/golden/{name}, key by key (or rewrite the file)."""
    path = GOLDEN_DIR / name
    rendered = _render(actual)
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_text(rendered, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing; write it with {UPDATE_ENV}=1"
    expected = json.loads(path.read_text(encoding="utf-8"))
    # Compared as JSON holds them: tuples are lists, keys are strings.
    actual = json.loads(rendered)
    missing = object()
    differing = sorted(key for key in expected.keys() | actual.keys()
                       if expected.get(key, missing) != actual.get(key, missing))
    shown = [f"{key}: expected {expected.get(key, '(none)')!r:.200}, got {actual.get(key, '(none)')!r:.200}"
             for key in differing[:SHOWN]]
    assert not differing, (f"{len(differing)} of {len(expected)} entries of {name} differ ({UPDATE_ENV}=1 rewrites "
                           "the file if the change is intended):\n" + "\n".join(shown))
