"""Synthetic dump sets the benchmarks write once and reuse from their --work folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dataget.synth.dump_set import write_dump_set


def dump_set_once(out: Path, releases: int, **options: Any) -> Path:
    """out, holding the dump set write_dump_set(out, releases, **options) writes; written only if no earlier run
    finished it (a `done` file marks that, so a run stopped half way writes it again)."""
    if not (out / "done").exists():
        write_dump_set(out, releases, **options)
        (out / "done").write_text("")
    return out
