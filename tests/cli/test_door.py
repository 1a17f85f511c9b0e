"""The CLI is a door: each command parses, calls one use case (a service, or the engine
in memory) and renders. No command opens a unit of work, reads a repository or
authorizes by itself, and the CLI imports neither the store nor its sibling doors
(`rolegate serve` names the HTTP app by its import string)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "src/rolegate/cli"
MODULES = sorted(CLI.glob("*.py"))
FORBIDDEN_IMPORTS = ("rolegate.store", "rolegate.api", "rolegate.web")
FORBIDDEN_CALLS = {"authorize", "load_state"}


def _leaks(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(FORBIDDEN_IMPORTS):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith(FORBIDDEN_IMPORTS)
            ]
        elif isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in {"uow", "reader"}
                ):
                    found.append(f"line {node.lineno}: with ...{call.func.attr}() (a unit of work opened in the door)")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "uow":
            found.append(f"line {node.lineno}: uow.{node.attr} (a repository read in the door)")
        elif isinstance(node, ast.Call):
            name = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else node.func.id
                if isinstance(node.func, ast.Name)
                else ""
            )
            if name in FORBIDDEN_CALLS:
                found.append(f"line {node.lineno}: {name}(...) (authorization belongs to the use case)")
    return found


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_a_command_module_only_calls_use_cases(module: Path) -> None:
    assert _leaks(ast.parse(module.read_text(encoding="utf-8"))) == []


def test_the_door_check_sees_each_kind_of_leak() -> None:
    leaky = """
from rolegate.store.migrations import upgrade
import rolegate.api
def command(rg):
    with rg.uow() as uow:
        uow.members.all("ws")
    authorize(state, actor, right)
"""
    assert sorted(leak.split(":")[0] for leak in _leaks(ast.parse(leaky))) == [
        "line 2",
        "line 3",
        "line 5",
        "line 6",
        "line 7",
    ]


def test_the_cli_loads_no_module_of_the_api_or_the_web() -> None:
    code = "import sys, rolegate.cli.main; print(sorted(m for m in sys.modules if m.startswith(('rolegate.api', 'rolegate.web'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
