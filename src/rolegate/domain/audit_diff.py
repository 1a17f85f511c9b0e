"""Before/after of an audit event as a readable list of changes (E8)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Change", "diff", "named"]


@dataclass(frozen=True, slots=True)
class Change:
    """One changed path: `kind` is added, removed or changed; lists of names (grants,
    features) show the items added and removed rather than two long lists."""

    path: str
    kind: str
    before: Any = None
    after: Any = None

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.path}: + {_show(self.after)}"
        if self.kind == "removed":
            return f"{self.path}: - {_show(self.before)}"
        return f"{self.path}: {_show(self.before)} -> {_show(self.after)}"


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(value) if isinstance(value, str) else str(value)


def _scalar_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value)


def diff(before: Any, after: Any, path: str = "") -> list[Change]:
    """Every difference between `before` and `after` (JSON values), in path order."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[Change] = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before:
                out.append(Change(sub, "added", after=after[key]))
            elif key not in after:
                out.append(Change(sub, "removed", before=before[key]))
            else:
                out += diff(before[key], after[key], sub)
        return out
    if _scalar_list(before) and _scalar_list(after):
        name = path or "(value)"
        gone = [v for v in before if v not in after]
        new = [v for v in after if v not in before]
        changes = [Change(name, "removed", before=v) for v in gone] + [Change(name, "added", after=v) for v in new]
        return changes or [Change(name, "changed", before, after)]  # same items, another order
    if before is None and isinstance(after, dict):
        return [Change(path or "(value)", "added", after=after)] if not after else diff({}, after, path)
    if after is None and isinstance(before, dict):
        return diff(before, {}, path) if before else [Change(path or "(value)", "removed", before=before)]
    return [Change(path or "(value)", "changed", before, after)]


def named(changes: Iterable[Change], names: Mapping[str, str]) -> list[Change]:
    """`changes` with each value that `names` knows (a member's id, a role's id) shown
    as what the team calls it: the audit log speaks of people and roles, not ids."""

    def show(value: Any) -> Any:
        if isinstance(value, str):
            return names.get(value, value)
        if _scalar_list(value):
            return [names.get(v, v) if isinstance(v, str) else v for v in value]
        return value

    return [replace(c, before=show(c.before), after=show(c.after)) for c in changes]
