"""docs/errors.md lists every error code, with the HTTP status the API answers, and
nothing else: a new ErrorCode or problem code fails here until it is documented."""

from __future__ import annotations

import re
from pathlib import Path

from rolegate.api.problems import PROBLEM_STATUS, STATUS_OF, ApiProblem
from rolegate.domain.errors import ErrorCode

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| (\d{3}|4xx) \| (.+?) \| (.+?) \|$", re.MULTILINE)


def documented() -> dict[str, tuple[str, str, str]]:
    return {code: (status, meaning, todo) for code, status, meaning, todo in ROW.findall(DOC.read_text(encoding="utf-8"))}


def test_every_error_code_is_documented() -> None:
    rows = documented()
    codes = {c.value for c in ErrorCode} | {p.value for p in ApiProblem}
    assert sorted(codes - rows.keys()) == [], "add these codes to docs/errors.md"
    assert sorted(rows.keys() - codes) == [], "docs/errors.md lists codes the API no longer has"


def test_documented_statuses_are_the_ones_answered() -> None:
    rows = documented()
    for code, status in PROBLEM_STATUS.items():
        assert rows[code][0] == (str(status) if status is not None else "4xx"), code
    assert set(PROBLEM_STATUS) == {c.value for c in ErrorCode} | {p.value for p in ApiProblem}
    for cls, status in STATUS_OF.items():
        assert PROBLEM_STATUS[cls.code] == status, cls.__name__


def test_every_row_says_what_it_means_and_what_to_do() -> None:
    for code, (_status, meaning, todo) in documented().items():
        assert len(meaning) > 20, code
        assert len(todo) > 10, code
