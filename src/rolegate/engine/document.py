"""The snapshot document: everything a workspace's snapshot is compiled from, as JSON.

`GET /v1/workspaces/{ws}/snapshot` answers `snapshot_document(...)`; an SDK (or any
process holding the engine) rebuilds the very same `Snapshot` with
`snapshot_from_document`, so its decisions equal the server's (the property test in
tests/property/test_snapshot_document.py compares check, explain, filter_fields and
lookup over the presets).

Format 1 (`"format": "rolegate.snapshot/1"`)::

    {"format": "rolegate.snapshot/1", "workspace_id": "...", "revision": 12,
     "schema": {"key": "natero", "version": 1, "hash": "<sha256 of the canonical source>",
                "source": {... the product schema as its YAML reads, in JSON ...}},
     "registry": {"objects": [{"key", "label"}],
                  "fields": [{"object_type", "name", "label", "added", "synced_from", "integration_access"}]},
     "features": ["..."],
     "roles": [{"id", "name", "kind", "level", "grants": [...], "landing_page", "description",
                "field_access": [[object_type, field, "none|read|write"]], "mirror_integration",
                "editable", "deletable"}],
     "members": [{"id", "role", "status"}]}

The schema travels as its source (not the compiled values), so the rebuild goes
through the same `parse_schema` and `apply_registry` as the server: one code path,
no second serializer to keep in step. `schema.hash` lets a client keep a parsed
schema across documents. Pure: no I/O, no framework.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rolegate.domain.errors import InvalidInputError
from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject, apply_registry
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
from rolegate.domain.schema import FieldAccess, ProductSchema, frozen_map
from rolegate.domain.schema_build import parse_schema
from rolegate.engine.compile import compile_snapshot
from rolegate.engine.records import RecordIndex
from rolegate.engine.snapshot import Snapshot

__all__ = [
    "DOCUMENT_FORMAT",
    "document_schema",
    "schema_hash",
    "snapshot_document",
    "snapshot_from_document",
]

DOCUMENT_FORMAT = "rolegate.snapshot/1"


def schema_hash(source: Mapping[str, Any]) -> str:
    """SHA-256 of the schema source's canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(source, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def snapshot_document(
    *,
    workspace_id: str,
    revision: int,
    schema_source: Mapping[str, Any],
    registry: FieldRegistry,
    features: Iterable[str],
    roles: Iterable[Role],
    members: Iterable[Member],
    schema_version: int | None = None,
) -> dict[str, Any]:
    """The document of one workspace at one revision (JSON-ready values only).
    `schema_version`: the workspace's (default: the source's `format`)."""
    return {
        "format": DOCUMENT_FORMAT,
        "workspace_id": workspace_id,
        "revision": revision,
        "schema": {
            "key": schema_source.get("key"),
            "version": schema_source.get("format", 1) if schema_version is None else schema_version,
            "hash": schema_hash(schema_source),
            "source": schema_source,
        },
        "registry": {
            "objects": [{"key": o.key, "label": o.label} for o in registry.objects],
            "fields": [
                {
                    "object_type": f.object_type,
                    "name": f.name,
                    "label": f.label,
                    "added": f.added,
                    "synced_from": f.synced_from,
                    "integration_access": None if f.integration_access is None else f.integration_access.label,
                }
                for f in registry.fields
            ],
        },
        "features": sorted(features),
        "roles": [_role_json(r) for r in roles],
        "members": [{"id": m.id, "role": m.role, "status": m.status.value} for m in members],
    }


def _role_json(role: Role) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "kind": role.kind.value,
        "level": role.level,
        "grants": sorted(role.grants),
        "landing_page": role.landing_page,
        "description": role.description,
        "field_access": [[o, f, a.label] for (o, f), a in sorted(role.field_access.items())],
        "mirror_integration": role.mirror_integration,
        "editable": role.editable,
        "deletable": role.deletable,
    }


def document_schema(document: Mapping[str, Any]) -> ProductSchema:
    """The workspace's schema (the preset with its registry) from a document."""
    _check_format(document)
    schema = document["schema"]
    source = schema["source"]
    product = parse_schema(source, source=f"snapshot document ({schema.get('key')})")
    return apply_registry(product, _registry(document["registry"]))


def snapshot_from_document(
    document: Mapping[str, Any],
    *,
    records: RecordIndex | None = None,
    schema: ProductSchema | None = None,
) -> Snapshot:
    """Compile the snapshot the document describes, at its revision. `schema` skips
    parsing when the caller holds the one of the same `schema.hash` and registry
    (`document_schema`). Raises InvalidInputError on a document of another format,
    and the engine's errors on inconsistent content (a member of an unknown role)."""
    _check_format(document)
    return compile_snapshot(
        schema if schema is not None else document_schema(document),
        features=document["features"],
        roles=[_role(r) for r in document["roles"]],
        members=[Member(m["id"], m["role"], MemberStatus(m["status"])) for m in document["members"]],
        records=records,
        revision=int(document["revision"]),
    )


def _check_format(document: Mapping[str, Any]) -> None:
    if document.get("format") != DOCUMENT_FORMAT:
        raise InvalidInputError(
            f"not a snapshot document of format {DOCUMENT_FORMAT!r} (got {document.get('format')!r})",
            fix="Download it from GET /v1/workspaces/{id}/snapshot with a matching SDK version.",
        )


def _registry(data: Mapping[str, Sequence[Mapping[str, Any]]]) -> FieldRegistry:
    return FieldRegistry(
        objects=tuple(RegisteredObject(o["key"], o["label"]) for o in data["objects"]),
        fields=tuple(
            RegisteredField(
                f["object_type"],
                f["name"],
                f["label"],
                bool(f["added"]),
                f["synced_from"],
                None if f["integration_access"] is None else FieldAccess.parse(f["integration_access"]),
            )
            for f in data["fields"]
        ),
    )


def _role(data: Mapping[str, Any]) -> Role:
    return Role(
        id=data["id"],
        name=data["name"],
        kind=RoleKind(data["kind"]),
        level=data["level"],
        grants=frozenset(data["grants"]),
        landing_page=data["landing_page"],
        description=data["description"],
        field_access=frozen_map({(o, f): FieldAccess.parse(a) for o, f, a in data["field_access"]}),
        mirror_integration=bool(data["mirror_integration"]),
        editable=bool(data["editable"]),
        deletable=bool(data["deletable"]),
    )
