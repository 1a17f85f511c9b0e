"""Records the engine needs for record-level rules, behind a small protocol.

The engine never stores records: it asks a `RecordIndex` for one record at a time
(and its parents, C7). `InMemoryRecordIndex` serves tests and embedded use; the
store provides one over SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, runtime_checkable

__all__ = ["InMemoryRecordIndex", "LineageIndex", "MemoryLineage", "Record", "RecordIndex", "RecordRef"]


class RecordRef(NamedTuple):
    """Which record: its object type and its id in the host product."""

    type: str
    id: str


@dataclass(frozen=True, slots=True)
class Record:
    type: str
    id: str
    parent: RecordRef | None = None
    assignee: str | None = None
    """The member the record is assigned to, if its type is assignable (N9)."""

    @property
    def ref(self) -> RecordRef:
        return RecordRef(self.type, self.id)


@runtime_checkable
class RecordIndex(Protocol):
    def get(self, ref: RecordRef) -> Record | None: ...


@runtime_checkable
class LineageIndex(RecordIndex, Protocol):
    """An index that can return a record and its ancestors at once (one SQL query
    instead of one per step of C7). `lineage(ref, depth)[k]` is the record `k` steps
    up, or None where the chain breaks; the sequence may stop early after a None."""

    def lineage(self, ref: RecordRef, depth: int) -> Sequence[Record | None]: ...


@runtime_checkable
class MemoryLineage(Protocol):
    """An index that may hold records in memory in front of slower storage: it answers
    a lineage (as `LineageIndex.lineage`) without I/O when it holds every record of it,
    else None (then `lineage` reads). What lets a record check stay on the event loop."""

    def lineage_in_memory(self, ref: RecordRef, depth: int) -> Sequence[Record | None] | None: ...


class InMemoryRecordIndex:
    """A dict of records; the same answers as the store's index, without a database."""

    __slots__ = ("_records",)

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self._records: dict[tuple[str, str], Record] = {(r.type, r.id): r for r in records}

    def get(self, ref: RecordRef) -> Record | None:
        return self._records.get(ref)

    def upsert(self, record: Record) -> None:
        self._records[(record.type, record.id)] = record

    def delete(self, ref: RecordRef) -> None:
        self._records.pop(ref, None)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._records.values())
