"""Applying a new version of a product schema to every workspace (issue 19), on SQLite
and PostgreSQL: a `kill -9` in the middle of `rolegate schema apply`, then a rerun,
leaves every workspace migrated exactly once (one audit event each, the run resumed);
a blocked workspace stays on its version while the others move; the audit chain stays
intact; a plan writes nothing; the workspace's administrators get the notice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import PermissionDeniedError, RolegateError
from rolegate.domain.roles import Role, RoleKind
from rolegate.domain.workspace import Actor
from rolegate.services import schema_upgrade, workspaces
from rolegate.services.audit import verify_audit
from rolegate.store import tables
from rolegate.store.migrations import upgrade
from tests import pg

PLATFORM = Actor.system("test")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "upgrades"
TELEPHONY_V2 = (FIXTURES / "telephony_v2.yaml").read_text(encoding="utf-8")
ROLEGATE = Path(sys.executable).with_name("rolegate")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rg.db'}"
        upgrade(url)
        yield url
    else:
        with pg.postgres_url(migrate=True) as url:
            yield url


@pytest.fixture
def app(db_url: str) -> Iterator[Rolegate]:
    rg = bootstrap(Settings(database_url=db_url, listen=False))
    try:
        yield rg
    finally:
        rg.close()


def _workspaces(app: Rolegate, n: int, preset: str = "telephony", org: str | None = None) -> list[str]:
    out = []
    for i in range(n):
        created = workspaces.create_workspace(
            app.uow(), actor=PLATFORM, preset=preset, name=f"ws {i}", owner_email=f"o{i}-{preset}-{org}@example.com", organization_id=org
        )
        out.append(created.workspace.id)
    return out


def _scalar(app: Rolegate, stmt: object) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)  # type: ignore[call-overload]


def _outcomes(db_url: str) -> int:
    """How many workspaces the run has decided, read without a write lock (the engine's
    SQLite connections begin IMMEDIATE: polling through them would stall the apply)."""
    if db_url.startswith("sqlite"):
        with closing(sqlite3.connect(db_url.removeprefix("sqlite:///"))) as conn:
            return int(conn.execute("SELECT count(*) FROM schema_upgrade_workspaces").fetchone()[0])
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM schema_upgrade_workspaces").fetchone()
        assert row is not None
        return int(row[0])


def _upgrade_events(app: Rolegate) -> dict[str, int]:
    a = tables.audit_events
    stmt = select(a.c.workspace_id, func.count()).where(a.c.action == schema_upgrade.AUDIT_ACTION).group_by(a.c.workspace_id)
    with app.engine.connect() as conn:
        return {row[0]: int(row[1]) for row in conn.execute(stmt)}


def _versions(app: Rolegate) -> dict[str, int]:
    w = tables.workspaces
    with app.engine.connect() as conn:
        return {row.id: row.schema_version for row in conn.execute(select(w.c.id, w.c.schema_version))}


def test_a_killed_apply_resumes_and_migrates_every_workspace_once(app: Rolegate, db_url: str, tmp_path: Path) -> None:
    ids = _workspaces(app, 40)
    path = tmp_path / "telephony_v2.yaml"
    path.write_text(TELEPHONY_V2, encoding="utf-8")
    cmd = [str(ROLEGATE), "schema", "apply", str(path), "--batch", "5", "--url", db_url]
    env = os.environ | {"ROLEGATE_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    migrated = tables.schema_upgrade_workspaces
    count = select(func.count()).select_from(migrated)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if _outcomes(db_url) >= 5:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.002)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "apply finished before it could be killed: make it migrate more workspaces"
    done = _scalar(app, count)
    assert 5 <= done < len(ids)
    # The run is left `running`; the rerun resumes it and skips what is done.
    rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(ids)} migrated, 0 blocked" in rerun.stdout  # the run, resumed: before and after the kill
    assert f"{len(ids) - done}/{len(ids) - done}" in rerun.stderr  # this rerun did the rest
    assert set(_versions(app).values()) == {2}
    assert _upgrade_events(app) == dict.fromkeys(ids, 1)
    assert _scalar(app, select(func.count()).select_from(tables.schema_upgrades)) == 1
    assert _scalar(app, count) == len(ids)
    # A third run finds nothing to do.
    again = schema_upgrade.apply_upgrade(app.uow, actor=PLATFORM, source=TELEPHONY_V2)
    assert again.run.counts == {}
    assert _upgrade_events(app) == dict.fromkeys(ids, 1)


def test_a_blocked_workspace_stays_on_its_version_and_the_others_move(app: Rolegate) -> None:
    ok, blocked = _workspaces(app, 2)
    # A custom role named like the system role version 2 adds ("Auditor") blocks its workspace.
    with app.uow() as uow:
        uow.roles.add(blocked, Role("c-auditor", "Auditor", RoleKind.CUSTOM, "analyst", frozenset({"reports.view"})))
        uow.commit()
    plan = schema_upgrade.plan_upgrade(app.reader(), actor=PLATFORM, source=TELEPHONY_V2)
    by_id = {w.workspace_id: w for w in plan.workspaces}
    assert by_id[ok].ok
    assert not by_id[blocked].ok
    assert plan.summary()["blocked"] == 1
    assert _versions(app) == {ok: 1, blocked: 1}  # a plan writes nothing
    seen: list[str] = []
    status = schema_upgrade.apply_upgrade(app.uow, actor=PLATFORM, source=TELEPHONY_V2, batch=1, on_progress=lambda p: seen.append(p.outcome))
    assert sorted(seen) == ["blocked", "migrated"]
    assert status.as_dict()["migrated"] == 1
    assert status.blocked[0][0] == blocked
    assert "Auditor" in status.blocked[0][1][0]
    assert _versions(app) == {ok: 2, blocked: 1}
    # The migrated workspace decides with version 2, its audit chain intact.
    view = workspaces.workspace_view(app.reader(), workspace_id=ok)
    assert view.schema_version == 2
    report = verify_audit(app.reader(), actor=PLATFORM, workspace_id=ok)
    assert report.intact
    listed = schema_upgrade.upgrade_status(app.reader(), actor=PLATFORM, product="telephony")
    assert [s.run.id for s in listed] == [status.run.id]


def test_only_the_platform_upgrades_and_a_stored_version_never_changes(app: Rolegate) -> None:
    _workspaces(app, 1)
    with pytest.raises(RolegateError, match="only the platform"):
        schema_upgrade.plan_upgrade(app.reader(), actor=Actor.member("x"), source=TELEPHONY_V2)
    schema_upgrade.apply_upgrade(app.uow, actor=PLATFORM, source=TELEPHONY_V2)
    changed = TELEPHONY_V2.replace("Version 2: see invoices.", "Another text.")
    with pytest.raises(RolegateError, match="already stored with another content"):
        schema_upgrade.apply_upgrade(app.uow, actor=PLATFORM, source=changed)
    with pytest.raises(RolegateError, match="shipped preset or older"):
        schema_upgrade.plan_upgrade(app.reader(), actor=PLATFORM, source=TELEPHONY_V2.replace("version: 2", "version: 1"))


def test_the_notice_shows_what_changed_until_the_member_dismisses_it(app: Rolegate) -> None:
    created = workspaces.create_workspace(app.uow(), actor=PLATFORM, preset="telephony", name="n", owner_email="notice@example.com")
    ws, owner = created.workspace.id, Actor.member(created.owner.member.id)
    assert schema_upgrade.upgrade_notice(app.reader(), actor=owner, workspace_id=ws) is None
    schema_upgrade.apply_upgrade(app.uow, actor=PLATFORM, source=TELEPHONY_V2)
    notice = schema_upgrade.upgrade_notice(app.reader(), actor=owner, workspace_id=ws)
    assert notice is not None
    assert notice.version == 2
    assert not notice.dismissed
    assert ("invoices.view", "View invoices") in notice.new_permissions
    schema_upgrade.dismiss_upgrade_notice(app.uow(), actor=owner, workspace_id=ws)
    notice = schema_upgrade.upgrade_notice(app.reader(), actor=owner, workspace_id=ws)
    assert notice is not None
    assert notice.dismissed
    with pytest.raises(PermissionDeniedError):
        schema_upgrade.upgrade_notice(app.reader(), actor=Actor.member("nobody"), workspace_id=ws)


def test_records_follow_an_object_renamed_by_the_new_version(app: Rolegate) -> None:
    from rolegate.engine import Record, RecordRef
    from rolegate.services.records import upsert_record

    created = workspaces.create_workspace(app.uow(), actor=PLATFORM, preset="natero", name="r", owner_email="rec@example.com")
    ws = created.workspace.id
    upsert_record(app.uow(), actor=PLATFORM, workspace_id=ws, record=Record("account", "acme"))
    upsert_record(app.uow(), actor=PLATFORM, workspace_id=ws, record=Record("task", "t1", parent=RecordRef("account", "acme")))
    source = (FIXTURES / "natero_v2.yaml").read_text(encoding="utf-8")
    source = source.replace("  account:\n    label: Account", "  client:\n    renamed_from: account\n    label: Account", 1)
    source = source.replace("object: account\n", "object: client\n").replace("parent: account\n", "parent: client\n")
    status = schema_upgrade.apply_upgrade(app.uow, actor=PLATFORM, source=source)
    assert status.run.counts == {"migrated": 1}, status.as_dict()
    with app.uow() as uow:
        assert uow.records.get(ws, RecordRef("client", "acme")) is not None
        task = uow.records.get(ws, RecordRef("task", "t1"))
    assert task is not None
    assert task.parent == RecordRef("client", "acme")


def test_a_workspace_created_after_an_upgrade_starts_on_the_new_version(app: Rolegate) -> None:
    _workspaces(app, 1)
    schema_upgrade.apply_upgrade(app.uow, actor=PLATFORM, source=TELEPHONY_V2)
    created = workspaces.create_workspace(app.uow(), actor=PLATFORM, preset="telephony", name="late", owner_email="late@example.com")
    assert created.workspace.schema_version == 2
    snap = app.snapshots.get(created.workspace.id)
    assert "reports.edit" in snap.schema.permissions
    plan = schema_upgrade.plan_upgrade(app.reader(), actor=PLATFORM, source=TELEPHONY_V2)
    assert plan.workspaces == ()
