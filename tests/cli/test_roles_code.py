"""Roles as code (issue 8): `rolegate export`, then `apply` onto a fresh workspace of the
same preset, reproduces every role's effective permissions, level and field access;
`plan` on an unchanged file says "no changes"; a second `apply` changes nothing. And
`rolegate audit verify` names the first event altered in the database. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import update
from typer.testing import CliRunner

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.cli.main import app as cli_app
from rolegate.config import Settings
from rolegate.domain.errors import RuleViolationError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Role
from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset
from rolegate.services import members, roles, workspaces
from rolegate.store import tables
from rolegate.store.migrations import upgrade
from tests import pg

runner = CliRunner()
PLATFORM = Actor.system("test")
WIDE = {"COLUMNS": "200"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rg.db'}"
        upgrade(url)
        yield url
    else:
        with pg.postgres_url(migrate=True) as url:
            yield url


def _app(url: str) -> Rolegate:
    return bootstrap(Settings(database_url=url, listen=False))


def _workspace(app: Rolegate, preset: str, features: list[str] | None = None) -> str:
    created = workspaces.create_workspace(
        app.uow(),
        actor=PLATFORM,
        preset=preset,
        name=f"{preset} ws",
        owner_email=f"owner-{preset}-{id(app)}-{features is None}@example.com",
        features=features,
    )
    return created.workspace.id


def _effective(
    app: Rolegate, workspace_id: str
) -> dict[str, tuple[str, frozenset[str], dict[tuple[str, str], object], str | None]]:
    with app.uow() as uow:
        ws = uow.workspaces.get(workspace_id)
        assert ws is not None
        schema = load_preset(ws.preset)
        found: list[Role] = [info.role for info in uow.roles.all(workspace_id)]
    return {
        r.name: (r.level, role_permissions(schema, r, ws.features), dict(r.field_access), r.landing_page) for r in found
    }


def _run(*args: str) -> str:
    result = runner.invoke(cli_app, list(args), env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("preset", ["email_marketing", "catalyst", "natero"])
def test_E2_export_then_apply_reproduces_every_roles_effective_permissions(
    db_url: str, tmp_path: Path, preset: str
) -> None:
    app = _app(db_url)
    try:
        schema = load_preset(preset)
        features = sorted(schema.features)[: max(1, len(schema.features) // 2)] if schema.features else []
        source = _workspace(app, preset, features)
        cloned = 0
        for key in schema.system_roles:
            try:
                roles.clone_role(app.uow(), actor=PLATFORM, workspace_id=source, role_id=key, name=f"Custom {key}")
                cloned += 1
            except RuleViolationError:
                continue  # a system role whose copy a rule refuses (e.g. a seat it cannot take)
        assert cloned >= 2
        with app.uow() as uow:
            custom = next(r for r in uow.roles.all(source) if not r.role.is_system).role
        roles.update_role(
            app.uow(), actor=PLATFORM, workspace_id=source, role_id=custom.id, description="edited before export"
        )
        path = tmp_path / "roles.yaml"
        _run("export", "--workspace", source, "--out", str(path), "--url", db_url)
        doc = yaml.safe_load(path.read_text())
        assert doc["preset"] == preset
        assert sum(1 for r in doc["roles"] if "name" in r) == cloned
        assert "no changes" in _run("plan", str(path), "--workspace", source, "--url", db_url)

        fresh = _workspace(app, preset)  # the preset's default features
        planned = _run("plan", str(path), "--workspace", fresh, "--url", db_url)
        assert planned.count("role.create") == cloned
        if sorted(schema.feature_defaults) != features:
            assert "features workspace" in planned
        applied = _run("apply", str(path), "--workspace", fresh, "--url", db_url)
        assert applied.count("applied role.create") == cloned
        assert _effective(app, fresh) == _effective(app, source)
        with app.uow() as uow:
            revision = uow.workspaces.revision(fresh)
            events = len(uow.audit.all(fresh))
            assert [e.action for e in uow.audit.all(fresh)].count("role.create") == cloned
        assert _run("apply", str(path), "--workspace", fresh, "--url", db_url).strip() == "no changes"
        assert "no changes" in _run("plan", str(path), "--workspace", fresh, "--url", db_url)
        with app.uow() as uow:
            assert uow.workspaces.revision(fresh) == revision
            assert len(uow.audit.all(fresh)) == events
    finally:
        app.close()


def test_E2_plan_shows_the_impact_on_members_and_apply_enforces_the_rules(db_url: str, tmp_path: Path) -> None:
    app = _app(db_url)
    try:
        ws = _workspace(app, "email_marketing")
        role = roles.create_role(
            app.uow(),
            actor=PLATFORM,
            workspace_id=ws,
            name="Reader",
            level="account_administrator",
            grants=["campaigns.view"],
        )
        members.add_member(
            app.uow(), actor=PLATFORM, workspace_id=ws, email=f"reader-{id(app)}@example.com", role_id=role.id
        )
        path = tmp_path / "roles.yaml"
        _run("export", "-w", ws, "-o", str(path), "--url", db_url)
        doc = yaml.safe_load(path.read_text())
        entry = next(r for r in doc["roles"] if r.get("name") == "Reader")
        entry["grants"] = ["campaigns.view", "campaigns.edit"]
        doc["roles"].append({"name": "Brand new", "level": "account_administrator", "grants": ["segments.view"]})
        path.write_text(yaml.safe_dump(doc))
        planned = _run("plan", str(path), "-w", ws, "--url", db_url)
        assert "role.update 'Reader': grants (1 member gain campaigns.edit)" in planned
        assert "role.create 'Brand new' (no member holds it)" in planned
        # --prune: a custom role the file does not list is deleted (and refused while held, N7/E2)
        kept = {**doc, "roles": [r for r in doc["roles"] if r.get("name") != "Reader"]}
        path.write_text(yaml.safe_dump(kept))
        assert "role.delete" not in _run("plan", str(path), "-w", ws, "--url", db_url)
        pruned = runner.invoke(cli_app, ["plan", str(path), "-w", ws, "--prune", "--url", db_url], env=WIDE)
        assert pruned.exit_code == 2, pruned.output  # plan reports the refusal apply would hit
        assert "role.delete 'Reader' (1 member lose campaigns.view)" in pruned.output
        assert "refused role.delete 'Reader'" in pruned.output
        result = runner.invoke(cli_app, ["apply", str(path), "-w", ws, "--prune", "--url", db_url], env=WIDE)
        assert result.exit_code == 2, result.output
        assert "“Reader”" in result.output
        # a rule still refuses: an account administrator role may not hold site.administer (E7)
        entry["grants"] = ["campaigns.view", "site.administer"]
        path.write_text(yaml.safe_dump(doc))
        result = runner.invoke(cli_app, ["apply", str(path), "-w", ws, "--url", db_url], env=WIDE)
        assert result.exit_code == 2, result.output
        assert "E7" in result.output
        # a file for another product is refused before anything changes
        doc["preset"] = "natero"
        path.write_text(yaml.safe_dump(doc))
        result = runner.invoke(cli_app, ["plan", str(path), "-w", ws, "--url", db_url], env=WIDE)
        assert result.exit_code == 2
        assert "for preset 'natero'" in result.output
    finally:
        app.close()


def test_a_roles_file_with_a_repeated_key_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(
        "format: 1\npreset: email_marketing\nroles:\n  - name: Reader\n    level: account_administrator\n    name: Writer\n"
    )
    result = runner.invoke(
        cli_app, ["plan", str(path), "-w", "any", "--url", f"sqlite:///{tmp_path / 'none.db'}"], env=WIDE
    )
    assert result.exit_code == 2
    assert "roles[0].name: duplicate key 'name' (lines 4 and 6)" in result.output


def test_E8_audit_verify_names_the_first_altered_event(db_url: str) -> None:
    app = _app(db_url)
    try:
        ws = _workspace(app, "email_marketing")
        for name in ("One", "Two", "Three"):
            roles.create_role(
                app.uow(), actor=PLATFORM, workspace_id=ws, name=name, level="account_administrator", grants=[]
            )
        ok = _run("audit", "verify", "-w", ws, "--url", db_url)
        assert "chain intact, 5 events (intact up to event 5)" in ok
        events = tables.audit_events
        with app.engine.begin() as conn:
            conn.execute(
                update(events).where(events.c.workspace_id == ws, events.c.seq == 4).values(before={"forged": True})
            )
        with app.uow() as uow:
            altered = uow.audit.all(ws, after_seq=3, limit=1)[0]
    finally:
        app.close()
    result = runner.invoke(cli_app, ["audit", "verify", "-w", ws, "--url", db_url], env=WIDE)
    assert result.exit_code == 1
    assert f"chain broken at event 4 (id {altered.id}, role.create on role {altered.target_id}" in result.output
    assert "content does not match its hash (altered)" in result.output


def _reader_doc(app: Rolegate, db_url: str, tmp_path: Path) -> tuple[str, Path, dict[str, object]]:
    ws = _workspace(app, "email_marketing")
    roles.create_role(
        app.uow(), actor=PLATFORM, workspace_id=ws, name="Reader", level="account_administrator", grants=["campaigns.view"]
    )
    path = tmp_path / "roles.yaml"
    _run("export", "-w", ws, "-o", str(path), "--url", db_url)
    return ws, path, yaml.safe_load(path.read_text())


def test_E7_plan_reports_every_refusal_apply_would_hit_and_writes_nothing(db_url: str, tmp_path: Path) -> None:
    app = _app(db_url)
    try:
        ws, path, doc = _reader_doc(app, db_url, tmp_path)
        entries = doc["roles"]
        assert isinstance(entries, list)
        # two changes a rule refuses: an account administrator role may not hold site.administer (E7)
        entries.append({"name": "First", "level": "account_administrator", "grants": ["campaigns.view", "site.administer"]})
        entries.append({"name": "Second", "level": "account_administrator", "grants": ["segments.view", "site.administer"]})
        path.write_text(yaml.safe_dump(doc))
        with app.uow() as uow:
            revision, events = uow.workspaces.revision(ws), len(uow.audit.all(ws))
        result = runner.invoke(cli_app, ["plan", str(path), "-w", ws, "--url", db_url], env=WIDE)
        assert result.exit_code == 2, result.output
        assert "refused role.create 'First': [E7]" in result.output
        assert "refused role.create 'Second': [E7]" in result.output
        result = runner.invoke(cli_app, ["apply", str(path), "-w", ws, "--url", db_url], env=WIDE)
        assert result.exit_code == 2, result.output
        assert "E7" in result.output
        with app.uow() as uow:
            assert (uow.workspaces.revision(ws), len(uow.audit.all(ws))) == (revision, events)
            assert {r.role.name for r in uow.roles.all(ws)} >= {"Reader"}
            assert not {"First", "Second"} & {r.role.name for r in uow.roles.all(ws)}
    finally:
        app.close()


def test_E7_apply_is_one_transaction_a_refused_second_change_leaves_the_first_unapplied(
    db_url: str, tmp_path: Path
) -> None:
    app = _app(db_url)
    try:
        ws, path, doc = _reader_doc(app, db_url, tmp_path)
        entries = doc["roles"]
        assert isinstance(entries, list)
        entry = next(r for r in entries if r.get("name") == "Reader")
        entry["grants"] = ["campaigns.view", "campaigns.edit"]  # first change: allowed
        entries.append({"name": "Refused", "level": "account_administrator", "grants": ["site.administer"]})
        path.write_text(yaml.safe_dump(doc))
        planned = runner.invoke(cli_app, ["plan", str(path), "-w", ws, "--url", db_url], env=WIDE)
        assert "role.update 'Reader': grants" in planned.output
        assert "refused role.create 'Refused': [E7]" in planned.output
        assert "refused role.update" not in planned.output
        result = runner.invoke(cli_app, ["apply", str(path), "-w", ws, "--url", db_url], env=WIDE)
        assert result.exit_code == 2, result.output
        assert "E7" in result.output
        with app.uow() as uow:
            reader = next(r.role for r in uow.roles.all(ws) if r.role.name == "Reader")
        assert "campaigns.edit" not in reader.grants
        # without the refused change, the same file applies as a whole
        doc["roles"] = [r for r in entries if r.get("name") != "Refused"]
        path.write_text(yaml.safe_dump(doc))
        assert "applied role.update 'Reader'" in _run("apply", str(path), "-w", ws, "--url", db_url)
        with app.uow() as uow:
            reader = next(r.role for r in uow.roles.all(ws) if r.role.name == "Reader")
        assert "campaigns.edit" in reader.grants
    finally:
        app.close()


def test_K6_export_includes_the_workspaces_own_objects_and_fields_and_apply_recreates_them(
    db_url: str, tmp_path: Path
) -> None:
    from rolegate.services import fields

    app = _app(db_url)
    try:
        source = _workspace(app, "catalyst")
        fields.add_object(app.uow(), actor=PLATFORM, workspace_id=source, key="project", label="Project")
        fields.add_field(app.uow(), actor=PLATFORM, workspace_id=source, object_type="project", name="budget", label="Budget")
        fields.add_field(app.uow(), actor=PLATFORM, workspace_id=source, object_type="account", name="nps", label="NPS")
        path = tmp_path / "roles.yaml"
        _run("export", "-w", source, "-o", str(path), "--url", db_url)
        doc = yaml.safe_load(path.read_text())
        assert doc["objects"] == [{"key": "project", "label": "Project"}]
        assert {(f["object"], f["name"], f["label"]) for f in doc["fields"]} == {
            ("project", "budget", "Budget"),
            ("account", "nps", "NPS"),
        }
        assert "no changes" in _run("plan", str(path), "-w", source, "--url", db_url)
        fresh = _workspace(app, "catalyst")
        planned = _run("plan", str(path), "-w", fresh, "--url", db_url)
        assert "object.add 'project'" in planned
        assert "field.add 'project.budget'" in planned
        _run("apply", str(path), "-w", fresh, "--url", db_url)
        with app.uow() as uow:
            copied, original = uow.fields.registry(fresh), uow.fields.registry(source)
        assert (set(copied.objects), set(copied.fields)) == (set(original.objects), set(original.fields))
        assert "no changes" in _run("plan", str(path), "-w", fresh, "--url", db_url)
    finally:
        app.close()


def test_K10_K9_export_carries_converted_preset_fields_and_apply_converts_them(db_url: str, tmp_path: Path) -> None:
    """A preset field the workspace converted to synced (K10) and an integration user's
    permission it set (K9) are in the export; applied to a fresh workspace, they convert
    the same fields, so every role's field access means the same there."""
    from rolegate.services import fields

    app = _app(db_url)
    try:
        source = _workspace(app, "catalyst")
        fields.convert_to_synced(app.uow(), actor=PLATFORM, workspace_id=source, object_type="account", name="health_notes", integration="salesforce")
        fields.set_integration_access(app.uow(), actor=PLATFORM, workspace_id=source, object_type="account", name="health_notes", access="read")
        fields.set_integration_access(app.uow(), actor=PLATFORM, workspace_id=source, object_type="account", name="arr", access="read")
        path = tmp_path / "roles.yaml"
        _run("export", "-w", source, "-o", str(path), "--url", db_url)
        doc = yaml.safe_load(path.read_text())
        by_name = {(f["object"], f["name"]): f for f in doc["fields"]}
        converted = by_name[("account", "health_notes")]
        assert (converted["synced_from"], converted["integration_access"]) == ("salesforce", "read")
        assert by_name[("account", "arr")]["integration_access"] == "read"
        assert "no changes" in _run("plan", str(path), "-w", source, "--url", db_url)
        fresh = _workspace(app, "catalyst")
        planned = _run("plan", str(path), "-w", fresh, "--url", db_url)
        assert "field.sync 'account.health_notes'" in planned
        assert "field.integration_access 'account.arr'" in planned
        _run("apply", str(path), "-w", fresh, "--url", db_url)
        with app.uow() as uow:
            copied = uow.fields.registry(fresh).field("account", "health_notes")
            arr = uow.fields.registry(fresh).field("account", "arr")
        assert copied is not None
        assert (copied.synced_from, copied.integration_access and copied.integration_access.label) == ("salesforce", "read")
        assert arr is not None
        assert arr.integration_access is not None
        assert arr.integration_access.label == "read"
        assert "no changes" in _run("plan", str(path), "-w", fresh, "--url", db_url)
    finally:
        app.close()
