"""Field-level security through the real services, on SQLite and PostgreSQL (K5-K12):
the workspace's objects and fields, conversions, integration caps and a role's field
permissions; each refusal names its rule and writes nothing, each change writes one
audit event and one revision."""

from __future__ import annotations

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.schema import FieldAccess
from rolegate.domain.workspace import Actor
from rolegate.engine import Snapshot
from rolegate.services import fields, roles
from rolegate.services.context import load_state
from tests.integration.support import Ws, one_change, open_workspace, refused

R, W, N = FieldAccess.READ, FieldAccess.WRITE, FieldAccess.NONE


def snap(ws: Ws) -> Snapshot:
    return ws.app.snapshots.get(ws.id)


def standard_csm(ws: Ws, field_access: dict[str, dict[str, str]] | None = None) -> tuple[str, str]:
    role = roles.create_role(ws.app.uow(), actor=ws.owner, workspace_id=ws.id, name="CSM", level="standard", field_access=field_access)
    return role.id, ws.add(role.id)


def test_K8_a_new_field_and_object_reach_no_standard_custom_role(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    _role, csm = standard_csm(ws, {"account": {"health_notes": "write"}})
    viewer, lead = ws.add("viewer"), ws.add("admin")
    with one_change(ws, "object.add"):
        fields.add_object(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, key="project", label="Project")
    with one_change(ws, "field.add"):
        fields.add_field(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="project", name="budget", label="Budget")
    with one_change(ws, "field.add"):
        fields.add_field(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="nps", label="NPS")
    s = snap(ws)
    assert s.field_access(csm, "project", "budget") is N
    assert s.field_access(csm, "account", "nps") is N
    assert s.field_access(csm, "account", "health_notes") is W  # what was configured stays
    # K5: system roles mirror the integration owner; the Limited viewer reads.
    assert s.field_access(lead, "project", "budget") is W
    assert s.field_access(viewer, "account", "nps") is R
    registry = fields.field_registry(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id)
    assert [o.key for o in registry.objects] == ["project"]
    assert {(f.object_type, f.name) for f in registry.fields} == {("project", "budget"), ("account", "nps")}


def test_K6_adding_a_field_twice_or_to_no_object_is_refused(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    with refused(ws, "K6"):
        fields.add_field(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="arr", label="ARR")
    with refused(ws, "K6"):
        fields.add_field(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="project", name="x", label="X")
    with refused(ws, "K6"):
        fields.add_object(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, key="account", label="Account")
    assert fields.field_registry(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id).empty


def test_K13_only_high_manages_the_field_registry(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    member = ws.add("member")
    with pytest.raises(PermissionDeniedError) as info:
        fields.add_field(rolegate_app.uow(), actor=Actor.member(member), workspace_id=ws.id, object_type="account", name="nps", label="NPS")
    assert info.value.rule_id == "K13"
    assert fields.field_registry(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id).empty


def test_K9_integration_user_with_read_locks_write_for_every_role(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    role_id, csm = standard_csm(ws, {"account": {"arr": "write"}})
    lead = ws.add("admin")
    assert snap(ws).field_access(csm, "account", "arr") is W
    with one_change(ws, "field.integration_access"):
        fields.set_integration_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="arr", access="read")
    s = snap(ws)
    assert s.field_access(csm, "account", "arr") is R
    assert s.field_access(lead, "account", "arr") is R
    refusal = s.check_write(csm, "account", ["arr"]).refused[0]
    assert refusal.rule_id == "K9"
    # Write cannot be granted on it any more, to a role or a new one; a role that held
    # it keeps its stored write (K10) and can still be saved.
    other = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Renewals", level="high")
    with refused(ws, "K9"):
        fields.set_role_field_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=other.id, changes={"account": {"arr": "write", "renewal_risk": "read"}})
    with refused(ws, "K9"):
        roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Deals", level="standard", field_access={"account": {"arr": "write"}})
    with one_change(ws, "role.update"):
        fields.set_role_field_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role_id, changes={"account": {"renewal_risk": "read"}})
    with refused(ws, "K9"):
        fields.set_integration_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="renewal_risk", access="read")
    with refused(ws, "K11"):
        fields.set_integration_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="arr", access="admin")


def test_K10_converting_a_local_field_changes_no_custom_role(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    role_id, csm = standard_csm(ws, {"account": {"renewal_risk": "write", "health_notes": "read"}})
    stored = ws.role(role_id)
    with one_change(ws, "field.sync"):
        fields.convert_to_synced(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="renewal_risk", integration="salesforce")
    assert ws.role(role_id) == stored
    assert snap(ws).field_access(csm, "account", "renewal_risk") is W  # the integration user writes it
    with one_change(ws, "field.integration_access"):
        fields.set_integration_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="renewal_risk", access="read")
    assert ws.role(role_id) == stored
    assert snap(ws).field_access(csm, "account", "renewal_risk") is R
    # The role can still be saved with other changes: its stored write is not re-checked.
    with one_change(ws, "role.update"):
        roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role_id, name="CSM team")
    with refused(ws, "K10"):
        fields.convert_to_synced(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="account", name="renewal_risk", integration="salesforce")
    with refused(ws, "K9"):
        fields.convert_to_synced(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, object_type="contact", name="notes", integration="hubspot")


def test_K7_K11_role_field_changes_keep_the_other_fields(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    role_id, csm = standard_csm(ws, {"account": {"health_notes": "write"}})
    with one_change(ws, "role.update"):
        fields.set_role_field_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role_id, changes={"contact": {"notes": "read"}, "account": {"name": "write"}})
    role = ws.role(role_id)
    assert role is not None
    assert role.field_access == {("account", "health_notes"): W, ("contact", "notes"): R, ("account", "name"): W}
    with refused(ws, "K7"):
        fields.set_role_field_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role_id, changes={"account": {"name": "none"}})
    with refused(ws, "K11"):
        fields.set_role_field_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role_id, changes={"account": {"arr": "write-only"}})
    s = snap(ws)
    assert s.filter_fields(csm, "contact", {"email": "a@b", "notes": "n", "title": "t"}) == {"email": "a@b", "notes": "n"}


def test_K1_a_limited_role_cannot_get_write(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    role = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Analyst", level="limited")
    with refused(ws, "K1"):
        fields.set_role_field_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role.id, changes={"account": {"health_notes": "write"}})


def test_K12_fields_a_role_loses_disappear_from_the_next_snapshot(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    role_id, csm = standard_csm(ws, {"account": {"health_notes": "read"}})
    record = {"name": "Acme", "health_notes": "fine"}
    assert snap(ws).filter_records(csm, "account", [record]) == [record]
    fields.set_role_field_access(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role_id, changes={"account": {"health_notes": "none"}})
    assert snap(ws).filter_records(csm, "account", [record]) == [{"name": "Acme"}]
    with rolegate_app.uow() as uow:
        state = load_state(uow, ws.id, lock=False)
    assert state.snapshot.readable_fields(csm, "account") == {"name", "owner"}
