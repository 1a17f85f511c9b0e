"""Schema upgrades over the API (issue 19): an organization's admin key plans a new
version of a product schema over its own workspaces only (another organization's are
neither counted nor named), reads the runs counted over its workspaces; a workspace
key is refused; a broken schema is a 422 with its problems."""

from __future__ import annotations

from pathlib import Path

from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services import schema_upgrade
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api, Tenant, assert_problem, make_tenant

V2 = (Path(__file__).resolve().parents[1] / "fixtures" / "upgrades" / "telephony_v2.yaml").read_text(encoding="utf-8")


def _other_org(api: Api, rolegate: Rolegate) -> tuple[Api, Tenant]:
    org = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Other")
    key = create_api_key(rolegate.uow(), organization_id=org, rights={"admin", "decide"}, name="other")
    other = api.as_(key=key)
    r = other.post("/v1/workspaces", json={"preset": "telephony", "name": "Theirs", "owner_email": "o@other.test"})
    assert r.status_code == 201, r.text
    return other, Tenant(r.json()["workspace"]["id"], r.json()["owner"]["id"], other, 0)


def test_an_organization_plans_over_its_own_workspaces_only(api: Api, rolegate: Rolegate) -> None:
    mine = make_tenant(api, "telephony")
    _, theirs = _other_org(api, rolegate)
    r = api.post("/v1/schema-upgrades/plan", json={"schema": V2})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["product"] == "telephony"
    assert body["version"] == 2
    assert [w["workspace_id"] for w in body["workspaces"]] == [mine.id]
    assert theirs.id not in r.text
    assert body["summary"]["to_upgrade"] == 1
    assert body["summary"]["workspaces"] == 1
    assert ["reports.manage", "reports.edit"] in body["changes"]["renamed"]["permissions"]
    assert body["workspaces"][0]["ok"] is True


def test_runs_are_counted_over_the_callers_workspaces(api: Api, rolegate: Rolegate) -> None:
    make_tenant(api, "telephony")
    other, _ = _other_org(api, rolegate)
    status = schema_upgrade.apply_upgrade(rolegate.uow, actor=Actor.system("test"), source=V2)
    r = api.get(f"/v1/schema-upgrades/{status.run.id}")
    assert r.status_code == 200, r.text
    assert r.json()["migrated"] == 1
    assert r.json()["status"] == "finished"
    r = other.get("/v1/schema-upgrades", params={"product": "telephony"})
    assert [item["migrated"] for item in r.json()["items"]] == [1]
    assert_problem(api.get("/v1/schema-upgrades/nope"), 404, "not_found")


def test_a_workspace_key_and_a_broken_schema_are_refused(api: Api, rolegate: Rolegate, org: str) -> None:
    t = make_tenant(api, "telephony")
    scoped = create_api_key(rolegate.uow(), organization_id=org, workspace_id=t.id, rights={"admin"}, name="one")
    assert_problem(api.as_(key=scoped).post("/v1/schema-upgrades/plan", json={"schema": V2}), 403, "key_forbidden")
    body = assert_problem(api.post("/v1/schema-upgrades/plan", json={"schema": "key: telephony\nname: x\n"}), 422, "schema_invalid")
    assert "required key is missing" in body["detail"]
    assert api.without_key().post("/v1/schema-upgrades/plan", json={"schema": V2}).status_code == 401
