"""Storage-neutral list filters returned by `lookup`.

A filter says which records of one object type a member may see or act on, as a
predicate over the assignee of the record (or of an ancestor that carries the
assignment). A host applies `to_json()` to its own database; `store/` turns it into a
SQLAlchemy clause; `matches` evaluates it against a `RecordIndex` (tests use it to
prove `lookup` and `check` agree).
"""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.schema import Scope
from rolegate.engine.records import RecordIndex, RecordRef

__all__ = ["AssigneeFilter", "Filter", "MatchAll", "MatchNone"]


@dataclass(frozen=True, slots=True)
class MatchAll:
    def to_json(self) -> dict[str, object]:
        return {"op": "all"}

    def matches(self, index: RecordIndex, ref: RecordRef) -> bool:
        return index.get(ref) is not None


@dataclass(frozen=True, slots=True)
class MatchNone:
    def to_json(self) -> dict[str, object]:
        return {"op": "none"}

    def matches(self, index: RecordIndex, ref: RecordRef) -> bool:
        return False


@dataclass(frozen=True, slots=True)
class AssigneeFilter:
    """The assignee of the record `depth` steps up (`via` names each step's type)
    relates to `member` as one of `scope`: assigned to them, to no one, or to others."""

    member: str
    depth: int
    via: tuple[str, ...]
    scope: Scope

    def to_json(self) -> dict[str, object]:
        return {
            "op": "assignee",
            "path": list(self.via),
            "member": self.member,
            "include": [n for n, s in (("assigned", Scope.ASSIGNED), ("unassigned", Scope.UNASSIGNED), ("others", Scope.OTHERS)) if s in self.scope],
        }

    def admits(self, assignee: str | None) -> bool:
        if assignee is None:
            return Scope.UNASSIGNED in self.scope
        return (Scope.ASSIGNED if assignee == self.member else Scope.OTHERS) in self.scope


@dataclass(frozen=True, slots=True)
class Filter:
    """All of `terms` hold (an empty list: every record of the type)."""

    object_type: str
    terms: tuple[AssigneeFilter, ...] = ()
    nothing: bool = False

    @property
    def is_all(self) -> bool:
        return not self.nothing and not self.terms

    def to_json(self) -> dict[str, object]:
        if self.nothing:
            body: dict[str, object] = MatchNone().to_json()
        elif not self.terms:
            body = MatchAll().to_json()
        elif len(self.terms) == 1:
            body = self.terms[0].to_json()
        else:
            body = {"op": "and", "args": [t.to_json() for t in self.terms]}
        return {"object": self.object_type, "filter": body}

    def matches(self, index: RecordIndex, ref: RecordRef) -> bool:
        if self.nothing:
            return False
        chain = [index.get(ref)]
        if chain[0] is None or chain[0].type != self.object_type:
            return False
        for term in self.terms:
            while len(chain) <= term.depth:
                parent = chain[-1].parent if chain[-1] is not None else None
                chain.append(index.get(parent) if parent is not None else None)
            rec = chain[term.depth]
            if rec is None or not term.admits(rec.assignee):
                return False
        return True
