"""The benchmarks' smoke runs, in the test process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _earlier_objects_frozen() -> Iterator[None]:
    """The benchmarks call `gc.collect()` before each timing, and in a test worker every
    such call walked the objects of the modules it ran before: `bench/engine.py
    --quick` took 78 s in `make test` against 11 s alone (36 s against 6 s behind 3
    million objects). Frozen, those objects are skipped; they are collectable again
    after the test."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
