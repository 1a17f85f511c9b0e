"""Rolegate: roles, permissions, seats and teams for SaaS products.

In process::

    from rolegate import load_preset, compile_snapshot, role_from_system, Member
    schema = load_preset("natero")
    roles = [role_from_system(schema, r) for r in schema.system_roles.values()]
    snap = compile_snapshot(schema, roles=roles, members=[Member("ann", "csm")])
    snap.check("ann", "accounts.update_attributes")  # -> Decision(allowed, scope, reasons, revision)
"""

from rolegate.domain.errors import (
    ErrorCode,
    InvalidRecordError,
    NotFoundError,
    PermissionDeniedError,
    RolegateError,
    RuleViolationError,
    SchemaError,
    SchemaProblem,
    UnknownActionError,
)
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.schema import AdminRight, FieldAccess, ProductSchema, Scope
from rolegate.domain.schema_build import parse_schema
from rolegate.domain.violations import Violation
from rolegate.engine import (
    Decision,
    Explanation,
    Filter,
    InMemoryRecordIndex,
    Reason,
    ReasonCode,
    Record,
    RecordIndex,
    RecordRef,
    Snapshot,
    compile_snapshot,
)
from rolegate.presets import PRESET_KEYS, load_preset, load_schema_file, load_schema_text

__all__ = [
    # schema
    "ProductSchema",
    "parse_schema",
    "load_preset",
    "load_schema_file",
    "load_schema_text",
    "PRESET_KEYS",
    # roles and members
    "Role",
    "RoleKind",
    "Member",
    "MemberStatus",
    "role_from_system",
    # decisions
    "compile_snapshot",
    "Snapshot",
    "Decision",
    "Explanation",
    "Reason",
    "ReasonCode",
    "Scope",
    "FieldAccess",
    "AdminRight",
    "Filter",
    "Record",
    "RecordRef",
    "RecordIndex",
    "InMemoryRecordIndex",
    # errors
    "RolegateError",
    "ErrorCode",
    "SchemaError",
    "SchemaProblem",
    "UnknownActionError",
    "InvalidRecordError",
    "PermissionDeniedError",
    "NotFoundError",
    "RuleViolationError",
    "Violation",
]
