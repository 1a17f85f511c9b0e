"""The snapshot document: built from a workspace's inputs, read back into the same
snapshot (same decisions, same field access, same revision), and refused when it is
of another format."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rolegate.domain.errors import InvalidInputError, RolegateError
from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
from rolegate.domain.schema import FieldAccess
from rolegate.engine import (
    DOCUMENT_FORMAT,
    InMemoryRecordIndex,
    Record,
    RecordRef,
    compile_snapshot,
    document_schema,
    schema_hash,
    snapshot_document,
    snapshot_from_document,
)
from tests.unit.engine.conftest import crm_schema_data, custom

REGISTRY = FieldRegistry(
    objects=(RegisteredObject("invoice", "Invoice"),),
    fields=(
        RegisteredField("account", "tier", "Tier", True),
        RegisteredField("account", "notes", "notes", False, "sf", FieldAccess.READ),
        RegisteredField("invoice", "total", "Total", True),
    ),
)

ROLES = (
    custom("csm", "editor", "accounts.own", fields={("account", "tier"): FieldAccess.WRITE, ("account", "arr"): FieldAccess.READ}),
    custom("manager", "high", "accounts.view_all", "admin.manage", "sms.send", "sms.view"),
)
MEMBERS = (Member("ann", "csm"), Member("max", "manager"), Member("ivy", "manager", MemberStatus.INVITED))


def document(**changes: Any) -> dict[str, Any]:
    doc = snapshot_document(
        workspace_id="ws-1",
        revision=42,
        schema_source=crm_schema_data(),
        registry=REGISTRY,
        features={"sms"},
        roles=ROLES,
        members=MEMBERS,
    )
    doc.update(changes)
    # Over the wire: only what survives JSON.
    parsed: dict[str, Any] = json.loads(json.dumps(doc))
    return parsed


def test_the_document_carries_format_revision_schema_hash_and_inputs() -> None:
    doc = document()
    assert doc["format"] == DOCUMENT_FORMAT
    assert doc["revision"] == 42
    assert doc["workspace_id"] == "ws-1"
    assert doc["schema"]["key"] == "crm"
    assert doc["schema"]["version"] == 1  # the source has no `format:` key: format 1
    assert doc["schema"]["hash"] == schema_hash(crm_schema_data())
    assert doc["features"] == ["sms"]
    assert doc["members"][2] == {"id": "ivy", "role": "manager", "status": "invited"}
    assert ["account", "tier", "write"] in doc["roles"][0]["field_access"]
    assert {"object_type": "account", "name": "notes", "label": "notes", "added": False, "synced_from": "sf", "integration_access": "read"} in doc["registry"]["fields"]


def test_the_schema_hash_ignores_key_order_and_follows_content() -> None:
    data = crm_schema_data()
    reordered = dict(reversed(list(data.items())))
    assert schema_hash(reordered) == schema_hash(data)
    assert schema_hash({**data, "name": "Other"}) != schema_hash(data)


def test_the_rebuilt_snapshot_decides_as_the_compiled_one() -> None:
    records = InMemoryRecordIndex([Record("account", "a1", assignee="ann"), Record("account", "a2", assignee="max")])
    doc = document()
    schema = document_schema(doc)
    original = compile_snapshot(schema, features={"sms"}, roles=ROLES, members=MEMBERS, records=records, revision=42)
    rebuilt = snapshot_from_document(doc, records=records)
    assert rebuilt.revision == 42
    assert rebuilt.features == frozenset({"sms"})
    for member in ("ann", "max", "ivy", "nobody"):
        for action in schema.actions:
            assert rebuilt.check(member, action) == original.check(member, action)
            assert rebuilt.explain(member, action).lines == original.explain(member, action).lines
    assert rebuilt.check("ann", "accounts.view", RecordRef("account", "a1")).allowed is True
    assert rebuilt.check("ann", "accounts.view", RecordRef("account", "a2")).allowed is False
    assert rebuilt.field_access("ann", "account", "tier") is FieldAccess.WRITE
    assert "total" in rebuilt.schema.objects["invoice"].fields  # the registry's object and field
    assert rebuilt.schema.integrations["sf"].cap("account", "notes") is FieldAccess.READ
    assert rebuilt.role_of("ann") == ROLES[0]


def test_a_held_schema_is_reused_instead_of_parsed_again() -> None:
    doc = document()
    schema = document_schema(doc)
    assert snapshot_from_document(doc, schema=schema).schema is schema


def test_another_format_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"rolegate\.snapshot/1"):
        snapshot_from_document(document(format="rolegate.snapshot/9"))
    with pytest.raises(InvalidInputError):
        document_schema({"roles": []})


def test_inconsistent_content_is_refused_by_the_engine() -> None:
    doc = document()
    doc["members"].append({"id": "zed", "role": "ghost", "status": "active"})
    with pytest.raises(RolegateError, match="unknown role"):
        snapshot_from_document(doc)


def test_a_role_without_fields_and_system_kind_round_trips() -> None:
    system = Role(id="admin", name="Admin", kind=RoleKind.SYSTEM, level="high", grants=frozenset({"admin.manage"}), landing_page="home", editable=False, deletable=False, mirror_integration=True)
    doc = snapshot_document(
        workspace_id="w",
        revision=1,
        schema_source=crm_schema_data(),
        registry=FieldRegistry(),
        features=(),
        roles=(system,),
        members=(Member("a", "admin", MemberStatus.DISABLED),),
        schema_version=3,
    )
    assert doc["schema"]["version"] == 3
    snap = snapshot_from_document(json.loads(json.dumps(doc)))
    assert snap.role_of("a") == system
    assert snap.check("a", "admin.manage").allowed is False  # disabled
