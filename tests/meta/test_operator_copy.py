"""What an operator reads (the CLI's lines, errors, the benchmarks' reports) counts as
a person writes: "2 workspaces", "1 event", never "workspace(s)" (`domain.words.count_of`).
The pages' copy is checked where it is rendered (tests/meta/test_customer_copy.py);
here every string the code writes is read from its source, f-strings included."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("src/rolegate", "bench")
HEDGED_PLURAL = re.compile(r"[A-Za-z]\(s\)")
NOT_A_PLURAL = ("http(s)", "evaluation(s)")
"""URL schemes, and AuthZEN's own name for its endpoints (`access evaluation(s)`)."""


def hedged_plurals(source: str) -> list[tuple[int, str]]:
    """(line, text) of each string literal or f-string part of `source` with a hedged plural."""
    found = []
    tree = ast.parse(source)
    # Docstrings speak to whoever reads the code, and may name the habit they forbid.
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
            for ok in NOT_A_PLURAL:
                text = text.replace(ok, "")
            if HEDGED_PLURAL.search(text):
                found.append((node.lineno, node.value))
    return found


def test_operator_text_says_how_many_in_words() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, text in hedged_plurals(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "write the count with domain.words.count_of:\n" + "\n".join(offenders)


def test_the_check_finds_a_hedged_plural_in_an_f_string_and_not_in_a_url_scheme() -> None:
    source = '"""Never \'event(s)\'."""\nn = 2\nmessage = f"pruned {n} event(s)"\nwhere = "an http(s) URL"\n'
    assert [line for line, _ in hedged_plurals(source)] == [3]
