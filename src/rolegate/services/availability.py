"""The database's availability as the doors see it: which driver errors mean "not
reachable now" and what kind of failure each is. The store decides both; a door only
answers them (503 with Retry-After) without importing the store."""

from __future__ import annotations

from rolegate.store.availability import UNAVAILABLE_ERRORS, failure_kind

__all__ = ["UNAVAILABLE_ERRORS", "failure_kind"]
