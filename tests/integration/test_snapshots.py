"""The snapshot cache: fresh after this process's commits, read-your-own-writes."""

from __future__ import annotations

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import RevisionNotReachedError
from rolegate.domain.workspace import Actor
from rolegate.services import members, roles
from rolegate.services.snapshots import SnapshotCache
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


def test_cache_keeps_only_the_newest_snapshot_per_workspace(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    first = rolegate_app.snapshots.get(ws.id)
    roles.create_role(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, name="Helpers", level="analyst")
    newest = rolegate_app.snapshots.get(ws.id)
    assert newest.revision == first.revision + 1
    assert rolegate_app.snapshots.cached()[ws.id] == newest.revision
    assert len(rolegate_app.snapshots) == 1  # the older revision is not held


def test_cache_is_bounded_by_workspaces_least_recently_used_first(rolegate_app: Rolegate) -> None:
    cache = SnapshotCache(rolegate_app.engine, maxsize=2)
    a, b, c = (open_workspace(rolegate_app, "telephony") for _ in range(3))
    cache.get(a.id)
    cache.get(b.id)
    cache.get(a.id)  # a is now the most recently used
    cache.get(c.id)
    assert list(cache.cached()) == [a.id, c.id]
    loads = cache.loads
    cache.get(a.id)
    assert cache.loads == loads  # still held
    cache.get(b.id)
    assert cache.loads == loads + 1  # evicted, compiled again
