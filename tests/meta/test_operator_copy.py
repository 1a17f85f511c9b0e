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


def _text(node: ast.expr) -> str | None:
    """A string literal, or an f-string with its fields as `{}`; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}" for v in node.values)
    return None


def fixes_that_are_not_sentences(source: str) -> list[tuple[int, str]]:
    """(line, text) of each `fix=` given as text that is not a sentence: it starts with a
    lowercase letter, or ends without a period, a question or an exclamation mark."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg != "fix":
                    continue
                values = [keyword.value.body, keyword.value.orelse] if isinstance(keyword.value, ast.IfExp) else [keyword.value]
                for value in values:
                    text = _text(value)
                    if text and (text[0].islower() or not text.rstrip().endswith((".", "?", "!"))):
                        found.append((value.lineno, text))
    return found


def test_every_fix_is_a_sentence_of_its_own() -> None:
    """An error's detail is its message, then its fix (`RolegateError.__str__`): the fix
    reads as a sentence there."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in sorted((ROOT / "src/rolegate").rglob("*.py"))
        for line, text in fixes_that_are_not_sentences(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "start the fix with a capital and end it with a period:\n" + "\n".join(offenders)


def test_the_fix_check_reads_f_strings_and_both_arms_of_a_choice() -> None:
    source = 'a(fix="Do this.")\nb(fix=f"use {x}")\nc(fix="Yes?" if x else "no")\nd(fix=hint)\ne(fix="Send it")\n'
    assert [line for line, _ in fixes_that_are_not_sentences(source)] == [2, 3, 5]
