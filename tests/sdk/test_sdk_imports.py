"""The SDK depends on httpx and on Rolegate's engine only: it imports nothing of
Rolegate but `rolegate.domain` and `rolegate.engine` (no store, services or doors,
so an application never pulls in SQLAlchemy, FastAPI or the server's settings)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "sdk" / "python" / "src" / "rolegate_sdk"
ALLOWED_ROLEGATE = ("rolegate.domain", "rolegate.engine")
ALLOWED_THIRD_PARTY = {"httpx"}


def imported(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            names.append(node.module)
    return names


def test_the_sdk_imports_only_the_engine_httpx_and_the_standard_library() -> None:
    files = sorted(SDK.glob("*.py"))
    assert files, SDK
    wrong = []
    for path in files:
        for name in imported(path):
            top = name.split(".")[0]
            if top == "rolegate":
                ok = name in ALLOWED_ROLEGATE or name.startswith(tuple(f"{p}." for p in ALLOWED_ROLEGATE))
            else:
                ok = top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names or top in {"rolegate_sdk", "__future__"}
            if not ok:
                wrong.append(f"{path.name}: {name}")
    assert wrong == []


def test_the_check_itself_finds_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from rolegate.services.snapshots import SnapshotCache\nimport sqlalchemy\n")
    assert imported(bad) == ["rolegate.services.snapshots", "sqlalchemy"]


def test_the_distribution_declares_httpx_and_rolegate_only() -> None:
    import tomllib

    project = tomllib.loads((SDK.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "rolegate-sdk"
    assert sorted(d.split(">=")[0] for d in project["dependencies"]) == ["httpx", "rolegate"]
