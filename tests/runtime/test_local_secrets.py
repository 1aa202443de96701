"""Local secrets: generated once per state folder, the same for every process that starts at the same time."""

from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor

from runtime.local_secrets import FILE_NAME, with_local_secrets
from runtime.settings import Settings


def test_processes_starting_together_share_one_set_of_secrets(tmp_path):
    # `dataget web --processes 2` starts its processes at once; the loser of the race must not crash.
    settings = Settings(state_dir=tmp_path / "state")
    start = threading.Barrier(8)

    def load(_: int) -> tuple[str, str]:
        start.wait()
        filled = with_local_secrets(settings)
        return filled.token_key, filled.session_secret

    with ThreadPoolExecutor(8) as pool:
        results = set(pool.map(load, range(8)))
    assert len(results) == 1 and all(next(iter(results)))
    path = tmp_path / "state" / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [FILE_NAME]  # nothing left aside


def test_secrets_from_the_environment_win(tmp_path):
    settings = Settings(state_dir=tmp_path, token_key="k", session_secret="s")
    assert with_local_secrets(settings) is settings
    assert not (tmp_path / FILE_NAME).exists()
