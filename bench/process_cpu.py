"""CPU seconds of process trees, for the benchmarks' per-process CPU lines."""

from __future__ import annotations

from collections.abc import Sequence

import psutil


def cpu_s(processes: Sequence[psutil.Process], skip: Sequence[psutil.Process] = ()) -> float:
    """CPU seconds (user + system) of processes and their descendants so far, less the trees of `skip` (the
    workers are this process' children too); gone processes count 0."""
    def tree(process: psutil.Process) -> list[psutil.Process]:
        try:
            return [process, *process.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    skipped = {p.pid for process in skip for p in tree(process)}
    total = 0.0
    for process in processes:
        for p in tree(process):
            if p.pid in skipped:
                continue
            try:
                times = p.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
            if p is process:  # children already waited for (the producer's finished parser processes)
                total += times.children_user + times.children_system
    return total
