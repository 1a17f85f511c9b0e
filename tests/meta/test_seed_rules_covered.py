"""Every rule of SEED_RULES.md has a test named after it, or a stated reason why not yet."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "SEED_RULES.md"
SHARED = ROOT.parent / "shared" / "SEED_RULES.md"

# Rules the library cannot decide: emails, invitations and UI pages (later issues).
# Empty now: C8 and E9 have tests of what the library decides (who may send a reset,
# which actions copy to other accounts); their email and multi-workspace halves come
# with the issues that build those.
DEFERRED: dict[str, str] = {}


def rule_ids() -> list[str]:
    return re.findall(r"^- ([NCKET]\d+) ", RULES.read_text(encoding="utf-8"), flags=re.MULTILINE)


def ids_with_tests() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        found.update(re.findall(r"^\s*(?:async )?def test_([NCKET]\d+)_", path.read_text(encoding="utf-8"), flags=re.MULTILINE))
    return found


def test_rulebook_copy_is_current() -> None:
    if SHARED.exists():  # the shared spec is beside the checkout in development, not in every CI clone
        assert RULES.read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8"), "copy ../shared/SEED_RULES.md to docs/"
    assert len(rule_ids()) == 55


def test_every_decidable_rule_has_a_test() -> None:
    missing = [r for r in rule_ids() if r not in ids_with_tests() and r not in DEFERRED]
    assert missing == [], f"rules with no test_<id>_...: {missing}"


def test_deferred_rules_are_really_untested() -> None:
    # When a deferred rule gets its test, it leaves the list, so the list stays true.
    assert sorted(r for r in DEFERRED if r in ids_with_tests()) == []
    assert set(DEFERRED) <= set(rule_ids())
