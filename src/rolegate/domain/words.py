"""How the product writes counts and names in sentences its customers read (issue 15,
item 2): "1 account", "3 accounts", never "account(s)"; a name in typographic quotes
(“Night shift”), never the straight quotes of Python's repr()."""

from __future__ import annotations

import math
import re

__all__ = ["count_of", "duration_of", "plural_of", "quoted", "without_rule_ids"]

_IRREGULAR = {"person": "people", "child": "children", "day": "days", "entry": "entries", "policy": "policies"}


def plural_of(singular: str) -> str:
    """The regular English plural of a noun, for the product words a schema names
    (account, contact, seat, member, campaign...): a schema that needs an irregular one
    says it through `count_of(..., plural=...)`."""
    if not singular:
        return singular
    lower = singular.lower()
    if lower in _IRREGULAR:
        plural = _IRREGULAR[lower]
        return plural if singular.islower() else plural.capitalize()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return singular + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return singular[:-1] + "ies"
    return singular + "s"


def count_of(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun agreeing with it: count_of(1, "member") == "1 member",
    count_of(0, "member") == "0 members"; the last word of a phrase is the one that
    takes the plural ("account record" -> "account records")."""
    if n == 1:
        return f"{n} {singular}"
    if plural is None:
        head, _, last = singular.rpartition(" ")
        plural = f"{head} {plural_of(last)}" if head else plural_of(last)
    return f"{n:,} {plural}"


def duration_of(seconds: int) -> str:
    """A wait as a person reads it, never shorter than it is: seconds up to a minute,
    then whole minutes, then whole hours ("Wait 1 hour", not "Wait 3,599 seconds")."""
    if seconds <= 60:
        return count_of(max(seconds, 0), "second")
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return count_of(minutes, "minute")
    return count_of(math.ceil(seconds / 3600), "hour")


def quoted(name: str) -> str:
    """A name inside a sentence, as the product prints it: “Night shift”."""
    return f"\u201c{name}\u201d"


_SEED = r"[CEKNT](?:1[0-4]|[1-9])"
_SEEDS = rf"{_SEED}(?:\s*,\s*{_SEED})*"
_CITATIONS = (
    # "Copy forms (E9)", "… them (E1, E7)."
    (re.compile(rf"\s*\({_SEEDS}\)"), ""),
    # "(E8: every administrator's changes)" -> "(every administrator's changes)"
    (re.compile(rf"\({_SEEDS}:\s*"), "("),
    # "(follows “CSM Seat”, N2)" -> "(follows “CSM Seat”)"
    (re.compile(rf",\s*{_SEEDS}\)"), ")"),
    # "C3 (Developer): create accounts" -> "Developer: create accounts"
    (re.compile(rf"^{_SEEDS}\s+\(([^)]*)\):\s*"), r"\1: "),
    # "E1, E7: only site administrators ..." -> "Only site administrators ..."
    (re.compile(rf"^{_SEEDS}:\s*"), ""),
)


def without_rule_ids(text: str) -> str:
    """A preset's description or label as its customers read it: the seed rules it
    cites for the spec's readers ("(T5)", "E1, E7: ...") left out; the "Why?"
    disclosure is where a rule is named."""
    out = text
    for pattern, replacement in _CITATIONS:
        out = pattern.sub(replacement, out)
    return out[:1].upper() + out[1:] if out and out != text and text[:1].isupper() else out
