"""The doors (`api`, `web`, `cli`) stay thin: they parse, call one use case and render.

Read from the source, so a shortcut fails here before review: a door never opens a
unit of work's block, reaches a repository, authorizes, or imports the store (passing
a fresh unit of work to a use case, cosmicpython style, is how it calls one); a rule's
refusal is built in the domain only; a rule id is never a literal, in the doors, the
services, the domain or the engine (it comes from the product schema: `schema.rule(...)`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "rolegate"
DOORS = ("api", "web", "cli")
RULE_ID = re.compile(r"[A-Z]\d{1,2}")
"""A seed rule id as a whole string: "N7", "K11", "E7" (in a message it is data the
domain put there)."""


def modules(*packages: str) -> Iterator[tuple[Path, ast.Module]]:
    for package in packages:
        for path in sorted((SRC / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(), filename=str(path))


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(SRC.parent)}:{getattr(node, 'lineno', 0)}"


def called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def door_shortcuts(path: Path, tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rolegate.store"):
            yield f"{where(path, node)} imports {node.module}"
        elif isinstance(node, ast.Import):
            yield from (f"{where(path, node)} imports {a.name}" for a in node.names if a.name.startswith("rolegate.store"))
        elif isinstance(node, ast.Call) and called_name(node) in {"authorize", "load_state"}:
            yield f"{where(path, node)} calls {called_name(node)}(): a use case authorizes and loads"
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                opened = item.context_expr
                if isinstance(opened, ast.Call) and called_name(opened) in {"uow", "reader"}:
                    yield f"{where(path, node)} opens a unit of work: pass it to a use case instead"
                if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == "uow":
                    yield f"{where(path, node)} works inside a unit of work"
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "uow":
            yield f"{where(path, node)} reaches uow.{node.attr}"


def test_doors_never_touch_a_unit_of_work_nor_authorize() -> None:
    found = [problem for path, tree in modules(*DOORS) for problem in door_shortcuts(path, tree)]
    assert found == [], "\n".join(found)


def test_violations_are_built_in_the_domain_only() -> None:
    found = [
        where(path, node)
        for path, tree in modules("services", "api", "web", "cli", "store", "engine", "presets")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and called_name(node) == "Violation"
    ]
    assert found == [], "a refusal is a domain rule's: " + ", ".join(found)


RULE_TABLE = SRC / "domain" / "schema.py"
"""`DEFAULT_RULE_IDS`, where each product-neutral rule names the seed rule it came from:
the one module allowed to spell seed ids (presets map them in their `rule_ids:`)."""


def test_rule_ids_come_from_the_schema() -> None:
    """Issue 14: a rule in the domain or engine that spelled "C5" cited customersuccessbox's
    rule in every product; each cites `schema.rule(name)`, the product's own id or none."""
    found = [
        f"{where(path, node)} {node.value!r}"
        for path, tree in modules("services", *DOORS, "domain", "engine")
        if path != RULE_TABLE
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and RULE_ID.fullmatch(node.value)
    ]
    assert found == [], "use schema.rule(name): " + ", ".join(found)


@pytest.mark.parametrize("door", DOORS)
def test_the_meta_test_sees_a_shortcut(door: str, tmp_path: Path) -> None:
    """The checks above would catch each shortcut they name."""
    source = (
        "from rolegate.store.uow import UnitOfWork\n"
        "def page(ctx):\n"
        "    with ctx.reader() as uow:\n"
        "        state = load_state(uow, ctx.workspace_id)\n"
        "        authorize(state, ctx.actor, 'x')\n"
        "        return uow.roles.all(ctx.workspace_id)\n"
    )
    path = SRC / door / "example.py"
    problems = list(door_shortcuts(path, ast.parse(source)))
    assert len(problems) == 6, problems
