"""The API's JSON as the engine's values (Decision, Explanation, Filter), so a remote
answer has the same type as a local one; and the retry policy both clients share."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from rolegate.domain.schema import Scope
from rolegate.engine import AssigneeFilter, Decision, Explanation, Filter, Reason, ReasonCode

__all__ = ["RETRY_STATUSES", "Retry", "decision_from_json", "explanation_from_json", "filter_from_json", "scope_from_label"]

RETRY_STATUSES = frozenset({429, 502, 503})

_SCOPES = {"assigned": Scope.ASSIGNED, "unassigned": Scope.UNASSIGNED, "others": Scope.OTHERS, "all": Scope.ALL}


def scope_from_label(label: str) -> Scope:
    """`Scope.label` read back: `all`, `none`, or parts joined by `+`."""
    scope = Scope.NONE
    if label == "none":
        return scope
    for part in label.split("+"):
        scope |= _SCOPES[part]
    return scope


def decision_from_json(data: dict[str, Any], object_type: str | None = None) -> Decision:
    reasons = tuple(Reason(ReasonCode(r["code"]), r["message"], r.get("permission"), r.get("rule")) for r in data["reasons"])
    return Decision(data["action"], bool(data["allowed"]), scope_from_label(data["scope"]), reasons, int(data["revision"]), object_type)


def explanation_from_json(data: dict[str, Any], object_type: str | None = None) -> Explanation:
    return Explanation(decision_from_json(data, object_type), data["member"], data.get("role"), data.get("level"), tuple(data["lines"]))


def filter_from_json(data: dict[str, Any]) -> Filter:
    object_type = data["object"]
    body = data["filter"]
    op = body["op"]
    if op == "none":
        return Filter(object_type, nothing=True)
    if op == "all":
        return Filter(object_type)
    terms = body["args"] if op == "and" else [body]
    out = []
    for term in terms:
        scope = Scope.NONE
        for name in term["include"]:
            scope |= _SCOPES[name]
        out.append(AssigneeFilter(term["member"], len(term["path"]), tuple(term["path"]), scope))
    return Filter(object_type, tuple(out))


@dataclass(frozen=True, slots=True)
class Retry:
    """Retries on connect errors and on 429, 502 and 503: `attempts` in all, waiting
    `base * 2**n` seconds (with jitter, at most `cap`), or what `Retry-After` says
    (at most `cap`)."""

    attempts: int = 4
    base: float = 0.05
    cap: float = 2.0

    def delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after is not None and retry_after.strip().isdigit():
            return min(float(retry_after), self.cap)
        return float(min(self.base * (2**attempt), self.cap) * (0.5 + random.random() / 2))
