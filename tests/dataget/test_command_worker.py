import gc
from collections.abc import Iterator

import pytest

from dataget.commands.worker import GC_THRESHOLDS, tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_tune_gc_freezes_the_heap_built_so_far_and_collects_young_objects_less_often(restored_gc: None) -> None:
    kept = [{"n": n} for n in range(1000)]
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() >= len(kept)
