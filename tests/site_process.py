"""For tests that start the site as a process: wait until it answers, failing at once with its error output if it
exits first."""

from __future__ import annotations

import subprocess
import time
import urllib.request


def wait_until_answering(site: subprocess.Popen, url: str, timeout: float) -> None:
    """Until a GET of url answers 200 (stderr of a site that exits first, piped, is the failure's message)."""
    deadline = time.monotonic() + timeout
    while True:
        assert site.poll() is None, site.stderr.read().decode() if site.stderr else f"exit {site.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
                return
        except OSError:
            assert time.monotonic() < deadline, f"{url} did not answer within {timeout:.0f} s"
            time.sleep(0.3)
