"""The decision engine: compile a workspace once, then decide in well under a microsecond."""

from rolegate.engine.compile import compile_snapshot
from rolegate.engine.decision import Decision, Explanation, Reason, ReasonCode
from rolegate.engine.document import (
    DOCUMENT_FORMAT,
    document_schema,
    schema_hash,
    snapshot_document,
    snapshot_from_document,
)
from rolegate.engine.field_checks import FieldRefusal, FieldVisibility, WriteCheck
from rolegate.engine.filters import AssigneeFilter, Filter
from rolegate.engine.records import InMemoryRecordIndex, Record, RecordIndex, RecordRef
from rolegate.engine.snapshot import CompiledRole, Snapshot

__all__ = [
    "compile_snapshot",
    "DOCUMENT_FORMAT",
    "snapshot_document",
    "snapshot_from_document",
    "document_schema",
    "schema_hash",
    "Snapshot",
    "CompiledRole",
    "Decision",
    "Explanation",
    "Reason",
    "ReasonCode",
    "Filter",
    "AssigneeFilter",
    "RecordIndex",
    "InMemoryRecordIndex",
    "Record",
    "RecordRef",
    "FieldRefusal",
    "FieldVisibility",
    "WriteCheck",
]
