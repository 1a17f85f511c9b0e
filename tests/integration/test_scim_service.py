"""SCIM provisioning's use cases on SQLite and PostgreSQL (issue 17): a User is a
member in one transaction (refused whole past the seats), groups give one role,
deprovisioning disables or suspends, and the audit chain stays whole."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from scim2_models import Group, GroupMember, PatchOp, User

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import RuleViolationError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.rules.directory_rules import directory_actor
from rolegate.services import scim
from tests.integration.support import open_workspace

BASE = "https://rolegate.test/scim/v2/workspaces/ws"
DIRECTORY = directory_actor("abcdefabcdef")


def address(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@acme.com"


def test_users_groups_roles_and_deprovisioning(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero", seat_capacities={"csm": 2, "analyst": 1})
    scim.set_group_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, group_name="CSMs", role_id="csm", priority=1)
    ada = scim.create_user(rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, user=User(user_name=address("ada"), active=True), base_url=BASE)
    assert ada.id is not None
    assert ws.member(ada.id).role == "guest"
    # The analyst seat is taken: the next User is refused whole (no user, member, row).
    second = address("bob")
    with pytest.raises(RuleViolationError) as refused:
        scim.create_user(rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, user=User(user_name=second, active=True), base_url=BASE)
    assert [v.rule_id for v in refused.value.violations] == ["N1"]
    with rolegate_app.uow() as uow:
        assert uow.users.by_email(second) is None
        assert uow.scim.user_by_name(ws.id, second) is None
    # Into the CSMs group: a CSM seat, and the analyst seat is free again.
    group = scim.create_group(
        rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, group=Group(display_name="csms", members=[GroupMember(value=ada.id)]), base_url=BASE
    )
    assert ws.member(ada.id).role == "csm"
    bob = scim.create_user(rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, user=User(user_name=second, active=True), base_url=BASE)
    assert bob.id is not None
    ws.assign_account(ada.id, "acc-ada")
    # N9: Ada holds an account, so deactivation suspends her; Bob is simply disabled.
    patch_user_model: Any = PatchOp[User]  # type: ignore[type-arg]
    off: PatchOp[Any] = patch_user_model.model_validate({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    scim.patch_user(rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, member_id=ada.id, patch=off, base_url=BASE)
    scim.patch_user(rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, member_id=bob.id, patch=off, base_url=BASE)
    assert ws.member(ada.id).status is MemberStatus.DISABLED
    assert ws.member(bob.id).status is MemberStatus.DISABLED
    with rolegate_app.uow() as uow:
        flags = uow.scim.flags(ws.id)
    assert flags[ada.id].suspended
    assert not flags[bob.id].suspended
    actions = [(e.action, e.actor) for e in ws.events()]
    assert ("member.suspend", "platform:scim:abcdefabcdef") in actions
    assert ("member.disable", "platform:scim:abcdefabcdef") in actions
    # DELETE: Bob leaves; Ada stays, suspended, her account hers until transferred.
    scim.delete_user(rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, member_id=bob.id)
    scim.delete_user(rolegate_app.uow(), actor=DIRECTORY, workspace_id=ws.id, member_id=ada.id)
    assert bob.id not in {m.id for m in ws.members()}
    assert ws.member(ada.id).status is MemberStatus.DISABLED
    listed = scim.list_users(rolegate_app.reader(), workspace_id=ws.id, base_url=BASE)
    assert listed.total_results == 0
    assert group.id is not None
    left = scim.get_group(rolegate_app.reader(), workspace_id=ws.id, group_id=group.id, base_url=BASE)
    assert left.members is None
    assert ws.chain_intact()
