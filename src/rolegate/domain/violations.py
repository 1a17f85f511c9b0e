"""A rule's refusal: which rule, what is wrong, and what to do instead."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    rule_id: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"[{self.rule_id}] {self.message}"
