"""The snapshot cache: fresh after this process's commits, read-your-own-writes."""

from __future__ import annotations

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import RevisionNotReachedError
from rolegate.domain.workspace import Actor
from rolegate.services import members, roles
from tests.integration.support import open_workspace


def test_snapshot_follows_this_process_commits(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    before = rolegate_app.snapshots.get(ws.id)
    role = roles.create_role(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, name="Helpers", level="analyst")
    after = rolegate_app.snapshots.get(ws.id)
    assert after.revision == before.revision + 1
    assert after.role_of(ws.owner_id) is not None
    assert rolegate_app.snapshots.get(ws.id) is after  # cached, not recompiled
    added = members.add_member(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, email="helper@example.test", role_id=role.id)
    latest = rolegate_app.snapshots.get(ws.id)
    held = latest.role_of(added.member.id)
    assert held is not None
    assert held.id == role.id
    assert before.role_of(added.member.id) is None  # the old snapshot is left as it was


def test_min_revision_not_reached_is_its_own_error(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    current = rolegate_app.snapshots.get(ws.id).revision
    assert rolegate_app.snapshots.get(ws.id, min_revision=current).revision == current
    with pytest.raises(RevisionNotReachedError) as info:
        rolegate_app.snapshots.get(ws.id, min_revision=current + 5)
    assert info.value.code == "revision_not_reached"
    assert "Retry" in info.value.fix
