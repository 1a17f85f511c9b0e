"""A small CRM schema that exercises every engine path: scopes, depth-2 children, fields."""

from __future__ import annotations

from typing import Any

import pytest

from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
from rolegate.domain.schema import FieldAccess, ProductSchema
from rolegate.domain.schema_build import parse_schema
from rolegate.engine import InMemoryRecordIndex, Record, RecordRef, Snapshot, compile_snapshot

ADMIN_KEYS = ("view_roles", "manage_roles", "manage_members", "assign_roles", "assign_records", "view_audit")


def crm_schema_data() -> dict[str, Any]:
    return {
        "key": "crm",
        "name": "CRM",
        "features": {"sms": {"label": "SMS"}},
        "integrations": {"sf": {"label": "Salesforce", "field_caps": {"account.contract_value": "read"}}},
        "objects": {
            "account": {
                "label": "Account",
                "assignable": True,
                "assignee_action": "accounts.be_assigned",
                "view_action": "accounts.view",
                "fields": {
                    "name": {"default": True},
                    "arr": {},
                    "contract_value": {"synced_from": "sf"},
                    "notes": {},
                },
            },
            "task": {"label": "Task", "parent": "account", "view_action": "tasks.view"},
            "comment": {"label": "Comment", "parent": "task", "view_action": "comments.view"},
            "report": {"label": "Report", "view_action": "reports.view"},
        },
        "actions": {
            "accounts.view": {"object": "account"},
            "accounts.update": {"object": "account"},
            "accounts.be_assigned": {"object": "account"},
            "tasks.view": {"object": "task"},
            "tasks.update": {"object": "task"},
            "comments.view": {"object": "comment"},
            "reports.view": {"object": "report"},
            "sms.send": {},
            "admin.manage": {},
        },
        "areas": {"accounts": {"label": "Accounts"}, "sms": {"label": "SMS"}, "admin": {"label": "Admin"}},
        "permissions": {
            "accounts.own": {
                "label": "Own accounts",
                "grants": [
                    "accounts.be_assigned",
                    {"action": "accounts.view", "scope": "assigned"},
                    {"action": "accounts.update", "scope": "assigned"},
                ],
            },
            "accounts.unassigned": {"label": "Unassigned accounts", "grants": [{"action": "accounts.view", "scope": "unassigned"}]},
            "accounts.view_all": {"label": "View all accounts", "grants": ["accounts.view", "reports.view"]},
            "accounts.update_all": {"label": "Update accounts", "grants": ["accounts.update"]},
            "accounts.tasks": {"label": "Tasks", "grants": ["tasks.view", "tasks.update", "comments.view"]},
            "sms.view": {"label": "SMS view", "feature": "sms", "grants": []},
            "sms.send": {"label": "Send SMS", "feature": "sms", "grants": ["sms.send"], "requires": ["sms.view"]},
            "admin.manage": {"label": "Manage", "grants": ["admin.manage"]},
        },
        "levels": {
            "viewer": {"label": "Viewer", "rank": 1, "field_ceiling": "read", "ceiling": {"all_except": ["admin.manage"]}},
            "editor": {"label": "Editor", "rank": 2, "floor": ["accounts.tasks"], "new_field_access": "none"},
            "high": {"label": "High", "rank": 3, "new_field_access": "write"},
        },
        "roles": {"admin": {"name": "Admin", "level": "high", "grants": "all", "fields": "mirror_integration"}},
        "admin": dict.fromkeys(ADMIN_KEYS, "admin.manage"),
        "team": {"keep_one": {"level": "high"}, "keep_one_rule": "T11"},
    }


@pytest.fixture(scope="session")
def crm() -> ProductSchema:
    return parse_schema(crm_schema_data())


def custom(role_id: str, level: str, *grants: str, fields: dict[tuple[str, str], FieldAccess] | None = None) -> Role:
    return Role(id=role_id, name=role_id.title(), kind=RoleKind.CUSTOM, level=level, grants=frozenset(grants), field_access=fields or {})


A = RecordRef("account", "a-ann")  # assigned to ann
B = RecordRef("account", "a-bob")  # assigned to bob
U = RecordRef("account", "a-free")  # unassigned


@pytest.fixture
def records() -> InMemoryRecordIndex:
    return InMemoryRecordIndex(
        [
            Record("account", "a-ann", assignee="ann"),
            Record("account", "a-bob", assignee="bob"),
            Record("account", "a-free"),
            Record("task", "t-ann", parent=A),
            Record("task", "t-bob", parent=B),
            Record("task", "t-free", parent=U),
            Record("comment", "c-ann", parent=RecordRef("task", "t-ann")),
            Record("comment", "c-bob", parent=RecordRef("task", "t-bob")),
            Record("task", "t-orphan", parent=RecordRef("account", "gone")),
        ]
    )


@pytest.fixture
def snap(crm: ProductSchema, records: InMemoryRecordIndex) -> Snapshot:
    roles = [
        custom("csm", "editor", "accounts.own", "accounts.unassigned"),
        custom("manager", "high", "accounts.view_all", "accounts.update_all", "admin.manage", "sms.send", "sms.view"),
        custom(
            "viewer",
            "viewer",
            "accounts.view_all",
            "accounts.tasks",
            "sms.send",
            fields={("account", "arr"): FieldAccess.WRITE, ("account", "notes"): FieldAccess.READ},
        ),
        custom(
            "editor",
            "editor",
            "accounts.view_all",
            fields={("account", "arr"): FieldAccess.WRITE, ("account", "contract_value"): FieldAccess.WRITE},
        ),
        custom("nobody", "viewer"),
    ]
    members = [
        Member("ann", "csm"),
        Member("bob", "csm"),
        Member("max", "manager"),
        Member("vic", "viewer"),
        Member("eve", "editor"),
        Member("ivy", "manager", MemberStatus.INVITED),
        Member("dan", "manager", MemberStatus.DISABLED),
        Member("nil", "nobody"),
    ]
    return compile_snapshot(crm, features=frozenset(), roles=roles, members=members, records=records, revision=7)
