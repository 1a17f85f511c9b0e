"""What the benchmark smoke tests share: loading a `bench/<name>.py` script as a module.

The scripts are run as files (`python bench/http.py`), not imported as a package, and
`bench/http.py` would shadow the standard library's `http` if bench/ were on sys.path;
each is loaded under the name `rolegate_bench_<name>` instead.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["BENCH_DIR", "load_bench"]

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def load_bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"rolegate_bench_{name}", BENCH_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module
