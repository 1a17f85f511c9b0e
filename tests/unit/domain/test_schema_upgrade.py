"""Schema upgrades in the domain (issue 19): the lineage a new version declares
(`renamed_from`, `split_from`, `removed`) and `upgrade_workspace`, which migrates a
workspace's roles and reports what that does to people."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from rolegate.domain.errors import SchemaError
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.schema import FieldAccess, ProductSchema
from rolegate.domain.schema_build import parse_schema
from rolegate.domain.schema_upgrade import KeyMap, WorkspaceUpgrade, schema_diff, upgrade_workspace

ADMIN = dict.fromkeys(("view_roles", "manage_roles", "manage_members", "assign_roles", "assign_records", "view_audit"), "admin.x")

V1: dict[str, Any] = {
    "key": "demo",
    "name": "Demo",
    "seats": {"pro": {"label": "Pro"}},
    "features": {"beta": {"label": "Beta"}, "old_flag": {"label": "Old"}},
    "objects": {
        "account": {"label": "Account", "fields": {"name": {"label": "Name", "default": True}, "notes": {"label": "Notes"}}},
        "legacy": {"label": "Legacy", "fields": {"code": {}}},
    },
    "actions": {"a.view": {"object": "account"}, "a.edit": {"object": "account"}, "admin.x": {}},
    "areas": {"a": {"label": "A"}, "admin": {"label": "Admin"}},
    "permissions": {
        "a.view": {"label": "View", "grants": ["a.view"]},
        "a.edit": {"label": "Edit", "grants": ["a.edit"], "requires": ["a.view"]},
        "a.old": {"label": "Old", "grants": ["a.view"]},
        "a.legacy": {"label": "Legacy", "grants": ["a.view"]},
        "a.gone": {"label": "Gone", "grants": ["a.view"]},
        "admin.all": {"label": "Admin", "grants": ["admin.x"]},
    },
    "levels": {
        "basic": {"label": "Basic", "rank": 1},
        "pro": {"label": "Pro", "rank": 2, "seat": "pro", "new_field_access": "write"},
    },
    "roles": {
        "owner": {"name": "Owner", "level": "pro", "grants": "all"},
        "fixed": {"name": "Fixed", "level": "basic", "grants": ["a.view", "a.old"], "fields": {"account": {"notes": "read"}}},
        "open": {"name": "Open", "level": "basic", "grants": ["a.view", "a.edit"], "editable": True},
    },
    "admin": ADMIN,
}


def _v2_dict() -> dict[str, Any]:
    d = copy.deepcopy(V1)
    d["version"] = 2
    p = d["permissions"]
    p["a.new"] = {**p.pop("a.old"), "renamed_from": "a.old"}
    p["a.delete"] = {"label": "Delete", "grants": ["a.edit"], "requires": ["a.view"], "split_from": "a.edit"}
    del p["a.legacy"], p["a.gone"]
    p["inv.view"] = {"label": "Invoices", "grants": ["inv.view"], "area": "a"}
    d["removed"] = [{"key": "a.legacy", "replaced_by": "a.view"}, {"key": "a.gone"}, {"kind": "object", "key": "legacy"}]
    d["actions"]["inv.view"] = {"object": "invoice"}
    del d["objects"]["legacy"]
    d["objects"]["account"]["fields"] = {"name": {"label": "Name", "default": True}, "remarks": {"renamed_from": "notes"}, "extra": {}}
    d["objects"]["invoice"] = {"label": "Invoice", "fields": {"number": {"default": True}, "total": {}}}
    d["levels"]["starter"] = {**d["levels"].pop("basic"), "renamed_from": "basic"}
    d["levels"]["gold"] = {"label": "Gold", "rank": 3, "seat": "gold"}
    d["seats"]["gold"] = {"label": "Gold"}
    del d["features"]["old_flag"]
    d["features"]["invoicing"] = {"label": "Invoicing"}
    d["roles"]["fixed"] = {"name": "Fixed", "level": "starter", "grants": ["a.view", "a.new"], "fields": {"account": {"remarks": "read"}}}
    d["roles"]["open"] = {"name": "Open", "level": "starter", "grants": ["a.view", "a.edit", "a.delete"], "editable": True}
    d["roles"]["auditor"] = {"name": "Auditor", "level": "starter", "grants": ["a.view"]}
    return d


def _v2(change: Callable[[dict[str, Any]], None] | None = None) -> ProductSchema:
    d = _v2_dict()
    if change is not None:
        change(d)
    return parse_schema(d)


OLD = parse_schema(V1)
NEW = _v2()


def _custom(rid: str, level: str, grants: set[str], fields: dict[tuple[str, str], FieldAccess] | None = None) -> Role:
    return Role(rid, rid.title(), RoleKind.CUSTOM, level, frozenset(grants), field_access=fields or {})


def _workspace(*custom: Role, members: list[Member] | None = None) -> dict[str, Any]:
    roles = {k: role_from_system(OLD, s, role_id=k) for k, s in OLD.system_roles.items()}
    roles |= {r.id: r for r in custom}
    return {
        "roles": roles,
        "system_keys": {k: k for k in OLD.system_roles},
        "members": members if members is not None else [Member(f"m-{r}", r) for r in roles],
        "features": frozenset({"beta", "old_flag"}),
        "seat_capacities": {"pro": None},
    }


def _upgrade(new: ProductSchema = NEW, *custom: Role, members: list[Member] | None = None, caps: dict[str, int | None] | None = None) -> WorkspaceUpgrade:
    ws = _workspace(*custom, members=members)
    if caps is not None:
        ws["seat_capacities"] = caps
    return upgrade_workspace(OLD, new, **ws)


# -- the format: version and lineage ---------------------------------------------------


def test_a_first_version_has_no_lineage() -> None:
    assert OLD.version == 1
    assert OLD.lineage.empty


def test_the_new_version_records_renames_splits_and_removals() -> None:
    lin = NEW.lineage
    assert NEW.version == 2
    assert not lin.empty
    assert lin.renamed[("permission", "a.old")] == "a.new"
    assert lin.renamed[("level", "basic")] == "starter"
    assert lin.renamed[("field", "account.notes")] == "account.remarks"
    assert lin.split["a.edit"] == ("a.delete",)
    assert lin.removed[("permission", "a.legacy")] == "a.view"
    assert lin.removed[("permission", "a.gone")] is None


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["permissions"]["a.view"].update(renamed_from="a.edit"), "permissions.a.view.renamed_from"),
        (lambda d: d["permissions"]["a.delete"].update(renamed_from="a.old"), "permissions.a.delete.renamed_from"),
        (lambda d: d["permissions"]["a.delete"].update(split_from="a.old"), "permissions.a.delete.split_from"),
        (lambda d: d["removed"].append({"key": "a.view"}), "removed[3].key"),
        (lambda d: d["removed"].append({"key": "a.gone"}), "removed[3].key"),
        (lambda d: d["removed"].append({"key": "zz", "replaced_by": "nope"}), "removed[3].replaced_by"),
        (lambda d: d["objects"]["account"]["fields"]["extra"].update(renamed_from="name"), "objects.account.fields.extra.renamed_from"),
    ],
)
def test_a_lineage_that_gives_an_old_key_two_fates_is_refused(change: Callable[[dict[str, Any]], None], path: str) -> None:
    with pytest.raises(SchemaError) as exc:
        _v2(change)
    assert path in [p.path for p in exc.value.problems]


def test_actions_and_objects_may_be_renamed_too() -> None:
    def change(d: dict[str, Any]) -> None:
        d["actions"]["a.see"] = {**d["actions"].pop("a.view"), "renamed_from": "a.view"}
        for p in d["permissions"].values():
            p["grants"] = ["a.see" if g == "a.view" else g for g in p["grants"]]
        d["objects"]["client"] = {**d["objects"].pop("account"), "renamed_from": "account"}
        for a in d["actions"].values():
            if a.get("object") == "account":
                a["object"] = "client"
        for r in d["roles"].values():
            if isinstance(r.get("fields"), dict) and "account" in r["fields"]:
                r["fields"]["client"] = r["fields"].pop("account")

    new = _v2(change)
    keys = KeyMap(OLD, new)
    assert keys.object("account") == "client"
    assert keys.field("account", "notes") == ("client", "remarks")
    assert keys.field("account", "name") == ("client", "name")
    diff = schema_diff(OLD, new)
    assert ["a.view", "a.see"] in diff.as_dict()["renamed"]["actions"]
    assert ("account", "client") in diff.renamed["objects"]
    assert "client.name" not in diff.added["fields"]
    assert "legacy.code" in diff.removed["fields"]


# -- where keys go ---------------------------------------------------------------------


def test_key_map() -> None:
    keys = KeyMap(OLD, NEW)
    assert keys.permission("a.view") == {"a.view"}
    assert keys.permission("a.old") == {"a.new"}
    assert keys.permission("a.edit") == {"a.edit", "a.delete"}
    assert keys.permission("a.legacy") == {"a.view"}
    assert keys.permission("a.gone") == frozenset()
    assert keys.level("basic") == "starter"
    assert keys.level("pro") == "pro"
    assert keys.level("nope") is None
    assert keys.object("legacy") is None
    assert keys.field("legacy", "code") is None
    assert keys.field("account", "nope") is None
    assert keys.fields({("account", "notes"): FieldAccess.READ, ("legacy", "code"): FieldAccess.WRITE}) == {
        ("account", "remarks"): FieldAccess.READ
    }
    assert keys.new_fields() == {("account", "extra"), ("invoice", "number"), ("invoice", "total")}
    assert keys.new_objects() == {"invoice"}


def test_a_split_whose_old_key_is_gone_gives_every_part() -> None:
    def change(d: dict[str, Any]) -> None:
        p = d["permissions"]
        p["a.write"] = {**p.pop("a.edit"), "split_from": "a.edit"}
        d["roles"]["open"]["grants"] = ["a.view", "a.write", "a.delete"]

    assert KeyMap(OLD, _v2(change)).permission("a.edit") == {"a.write", "a.delete"}


def test_schema_diff() -> None:
    diff = schema_diff(OLD, NEW)
    d = diff.as_dict()
    assert not diff.empty
    assert d["version_from"] == 1
    assert d["version_to"] == 2
    assert d["added"]["permissions"] == ["inv.view"]
    assert d["added"]["objects"] == ["invoice"]
    assert d["added"]["seats"] == ["gold"]
    assert d["added"]["system_roles"] == ["auditor"]
    assert d["added"]["features"] == ["invoicing"]
    assert "account.extra" in d["added"]["fields"]
    assert "account.remarks" not in d["added"]["fields"]
    assert d["removed"]["permissions"] == ["a.gone", "a.legacy"]
    assert d["removed"]["objects"] == ["legacy"]
    assert d["renamed"]["permissions"] == [["a.old", "a.new"]]
    assert d["split"] == {"a.edit": ["a.delete"]}
    assert schema_diff(OLD, OLD).empty


# -- a workspace -----------------------------------------------------------------------


def test_custom_roles_keep_what_they_held_under_the_new_keys() -> None:
    role = _custom("c1", "basic", {"a.view", "a.edit", "a.old", "a.legacy", "a.gone"}, {("account", "notes"): FieldAccess.READ, ("legacy", "code"): FieldAccess.READ})
    up = _upgrade(NEW, role)
    assert up.ok, up.blockers
    after = up.roles["c1"]
    assert after.level == "starter"
    assert after.grants == {"a.view", "a.edit", "a.delete", "a.new"}
    assert dict(after.field_access) == {("account", "remarks"): FieldAccess.READ}
    change = next(c for c in up.role_changes if c.role_id == "c1")
    assert change.dropped == ("a.gone",)
    d = change.as_dict()
    assert d["level"] == ["basic", "starter"]
    assert "a.delete" in d["grants_added"]
    assert "a.gone" in d["grants_removed"]
    member = next(m for m in up.member_changes if m.role_id == "c1")
    assert member.lost == ("a.gone",)
    assert member.gained == ()
    assert up.features == {"beta"}
    assert up.dropped_features == ("old_flag",)
    assert dict(up.seat_capacities) == {"pro": None, "gold": None}


def test_system_roles_follow_the_new_definition_and_editable_ones_keep_their_grants() -> None:
    up = _upgrade()
    assert up.roles["fixed"].grants == {"a.view", "a.new"}
    assert dict(up.roles["fixed"].field_access) == {("account", "remarks"): FieldAccess.READ}
    assert up.roles["open"].grants == {"a.view", "a.edit", "a.delete"}
    assert up.roles["owner"].grants == frozenset(NEW.permissions)  # `all` adds what the product added
    assert up.added_roles == ("auditor",)
    assert up.system_keys["auditor"] == "auditor"
    assert "auditor" in up.roles


def test_an_editable_system_role_keeps_the_customers_grants() -> None:
    ws = _workspace()
    ws["roles"]["open"] = ws["roles"]["open"].with_changes(grants={"a.view"})  # the customer took a.edit away
    up = upgrade_workspace(OLD, NEW, **ws)
    assert up.roles["open"].grants == {"a.view"}  # a.delete comes from a.edit: not back

    def add(d: dict[str, Any]) -> None:
        d["roles"]["open"]["grants"].append("inv.view")

    up = upgrade_workspace(OLD, _v2(add), **ws)
    assert up.roles["open"].grants == {"a.view", "inv.view"}  # what the product added to the definition


def test_members_gain_and_lose_in_the_new_keys_with_their_fields() -> None:
    role = _custom("c1", "pro", {"a.view", "a.gone"})
    members = [Member("m1", "c1"), Member("m2", "c1", MemberStatus.INVITED)]
    up = _upgrade(NEW, role, members=members)
    m1, m2 = up.member_changes
    assert m1.permissions == m2.permissions == {"a.view"}
    assert m1.lost == ("a.gone",)
    assert m1.gained == ()
    d = m1.as_dict()
    assert {"object": "invoice", "field": "total", "before": "none", "after": "write"} in d["fields"]
    assert up.as_dict()["members"][0]["member_id"] == "m1"


def test_a_member_losing_a_dropped_permission_is_reported() -> None:
    def change(d: dict[str, Any]) -> None:
        d["removed"].append({"key": "a.edit"})
        del d["permissions"]["a.edit"]
        d["permissions"]["a.delete"].pop("split_from")
        d["roles"]["open"]["grants"] = ["a.view", "a.delete"]

    up = _upgrade(_v2(change), _custom("c1", "basic", {"a.view", "a.edit"}), members=[Member("m1", "c1")])
    assert up.member_changes[0].lost == ("a.edit",)


def test_k8_new_objects_and_fields_reach_no_protected_custom_role() -> None:
    role = _custom("c1", "basic", {"a.view"})
    assert _upgrade(NEW, role).k8 == ()

    def leak_object(d: dict[str, Any]) -> None:
        d["permissions"]["a.view"]["grants"] = ["a.view", "inv.view"]

    up = _upgrade(_v2(leak_object), role)
    assert not up.ok
    assert any("new object invoice" in k for k in up.k8)

    def leak_fields(d: dict[str, Any]) -> None:
        d["levels"]["starter"]["new_field_access"] = "read"

    up = _upgrade(_v2(leak_fields), role)
    assert any("new field invoice.total" in k for k in up.k8)
    assert not any("invoice.number" in k for k in up.k8)  # a default field is readable by everyone (K7)
    assert all("K8" in b for b in up.blockers)


def test_k8_leaves_unprotected_levels_and_system_roles_alone() -> None:
    def leak_object(d: dict[str, Any]) -> None:
        d["permissions"]["a.view"]["grants"] = ["a.view", "inv.view"]

    up = _upgrade(_v2(leak_object), _custom("c1", "pro", {"a.view"}))
    assert up.k8 == ()  # pro hands out new fields (new_field_access: write); the system roles are the product's


def test_a_role_the_new_rules_refuse_blocks_the_workspace() -> None:
    def ceiling(d: dict[str, Any]) -> None:
        d["levels"]["starter"]["ceiling"] = {"all_except": ["a.delete"]}
        d["roles"]["open"]["grants"] = ["a.view", "a.edit"]

    up = _upgrade(_v2(ceiling), _custom("c1", "basic", {"a.view", "a.edit"}))
    assert not up.ok
    assert sorted(rid for rid, _ in up.refused) == ["c1", "open"]  # both held a.edit, so a.delete
    assert any(b.startswith("role “C1”: [") for b in up.blockers)
    assert up.as_dict()["ok"] is False


def test_seats_that_would_overflow_block_the_workspace() -> None:
    def seat(d: dict[str, Any]) -> None:
        d["levels"]["starter"]["seat"] = "pro"

    up = _upgrade(_v2(seat), caps={"pro": 1})
    assert dict(up.seat_overflow) == {"pro": 2}  # the holders of owner, fixed and open: all on pro seats now
    assert "pro: 2 members over capacity" in up.blockers


def test_a_level_gone_without_replacement_blocks() -> None:
    def drop_level(d: dict[str, Any]) -> None:
        del d["levels"]["starter"]
        d["levels"]["gold"]["rank"] = 1
        d["removed"].append({"kind": "level", "key": "basic"})
        for r in d["roles"].values():
            r["level"] = "pro"

    up = _upgrade(_v2(drop_level), _custom("c1", "basic", {"a.view"}))
    assert not up.ok
    assert "level basic is gone" in up.problems[0]
    assert up.member_changes == ()
    assert up.refused == ()


def test_a_system_role_gone_is_deleted_unless_someone_holds_it() -> None:
    def drop(d: dict[str, Any]) -> None:
        del d["roles"]["fixed"]

    new = _v2(drop)
    held = _upgrade(new)
    assert not held.ok
    assert "“Fixed” is gone" in held.problems[0]
    ws = _workspace(members=[Member("m", "owner")])
    free = upgrade_workspace(OLD, new, **ws)
    assert free.ok
    assert free.removed_roles == ("fixed",)
    assert "fixed" not in free.roles


def test_a_new_system_role_whose_name_is_taken_blocks() -> None:
    up = _upgrade(NEW, Role("c1", "auditor", RoleKind.CUSTOM, "basic", frozenset({"a.view"})))
    assert not up.ok
    assert "“Auditor”" in up.problems[0]
    assert "auditor" not in up.roles


def test_a_system_role_the_old_version_did_not_define_gets_nothing_added() -> None:
    ws = _workspace()
    ws["roles"]["auditor"] = Role("auditor", "Auditor", RoleKind.SYSTEM, "basic", frozenset(), editable=True)
    ws["system_keys"] = {**ws["system_keys"], "auditor": "auditor"}

    def editable(d: dict[str, Any]) -> None:
        d["roles"]["auditor"]["editable"] = True

    up = upgrade_workspace(OLD, _v2(editable), **ws)
    assert up.roles["auditor"].grants == frozenset()
    assert up.added_roles == ()
