"""Decisions over HTTP: check (with and without a record), check/batch, fields/filter,
lookup, and reading one's own writes with `min_revision`."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def csm_with_accounts(t: Tenant) -> str:
    csm = invite(t, "csm@acme.test", "csm")
    for account, assignee in (("mine", csm), ("free", None), ("theirs", t.owner)):
        assert t.api.put(t.url(f"/records/account/{account}"), json={"assignee": assignee}).status_code == 200
    assert t.api.put(t.url("/records/task/t-theirs"), json={"parent": {"type": "account", "id": "theirs"}}).status_code == 200
    return csm


def check(t: Tenant, **body: Any) -> dict[str, Any]:
    r = t.api.post(t.url("/check"), json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    data: dict[str, Any] = r.json()
    return data


def test_check_without_record_says_allowed_scope_reasons_and_revision(natero: Tenant) -> None:
    csm = csm_with_accounts(natero)
    d = check(natero, member=csm, action="accounts.update_attributes")
    assert d["allowed"] is True
    assert d["scope"] == "assigned"  # granted everywhere (N13), but a CSM sees only their accounts (N11)
    assert d["reasons"][0]["code"] == "granted"
    assert d["revision"] == natero.api.get(natero.url()).json()["revision"]
    denied = check(natero, member=csm, action="settings.create_workflows")
    assert denied["allowed"] is False
    assert denied["reasons"][0]["message"]


def test_N11_a_csm_sees_only_their_accounts(natero: Tenant) -> None:
    csm = csm_with_accounts(natero)
    assert check(natero, member=csm, action="accounts.view")["scope"] == "assigned"
    assert check(natero, member=csm, action="accounts.view", record={"type": "account", "id": "mine"})["allowed"] is True
    d = check(natero, member=csm, action="accounts.view", record={"type": "account", "id": "theirs"})
    assert d["allowed"] is False
    assert d["reasons"][-1]["code"] == "record_out_of_scope"
    assert d["reasons"][-1]["rule"] == "N11"


def test_C7_a_task_of_an_inaccessible_account_is_denied(natero: Tenant) -> None:
    csm = csm_with_accounts(natero)
    d = check(natero, member=csm, action="tasks.view", record={"type": "task", "id": "t-theirs"})
    assert d["allowed"] is False
    assert d["reasons"][-1]["rule"] in {"C7", "N11"}


def test_check_errors_are_problems(natero: Tenant) -> None:
    body = assert_problem(natero.api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.veiw"}), 422, "unknown_action")
    assert "accounts.view" in body["detail"]
    r = natero.api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view", "record": {"type": "task", "id": "x"}})
    assert_problem(r, 422, "invalid_record")


def test_min_revision_reads_ones_own_write_and_refuses_the_future(natero: Tenant) -> None:
    member = invite(natero, "cat@acme.test", "guest")
    r = natero.api.patch(natero.url(f"/members/{member}"), json={"role": "analyst"})
    rev = r.json()["revision"]
    d = check(natero, member=member, action="settings.create_workflows", min_revision=rev)
    assert d["allowed"] is True
    assert d["revision"] >= rev
    r = natero.api.post(natero.url("/check"), json={"member": member, "action": "accounts.view", "min_revision": rev + 100})
    body = assert_problem(r, 409, "revision_not_reached")
    assert "Retry" in body["detail"]


def test_batch_decides_every_check_on_one_snapshot(natero: Tenant) -> None:
    csm = csm_with_accounts(natero)
    checks: list[dict[str, Any]] = [
        {"member": csm, "action": "accounts.view"},
        {"member": csm, "action": "accounts.view", "record": {"type": "account", "id": "theirs"}},
        {"member": natero.owner, "action": "roles.configure"},
        {"member": "nobody", "action": "accounts.view"},
    ] * 50
    r = natero.api.post(natero.url("/check/batch"), json={"checks": checks})
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["results"]) == 200
    assert [x["allowed"] for x in out["results"][:4]] == [True, False, True, False]
    assert out["results"][3]["reasons"][0]["code"] == "unknown_member"
    assert out["revision"] == check(natero, member=csm, action="accounts.view")["revision"]


def test_batch_without_records_and_its_errors_name_the_check(natero: Tenant) -> None:
    r = natero.api.post(natero.url("/check/batch"), json={"checks": [{"member": natero.owner, "action": "accounts.view"}] * 3})
    assert [x["allowed"] for x in r.json()["results"]] == [True, True, True]
    bad = [{"member": natero.owner, "action": "accounts.view"}, {"member": natero.owner, "action": "nope"}]
    body = assert_problem(natero.api.post(natero.url("/check/batch"), json={"checks": bad}), 422, "unknown_action")
    assert body["detail"].startswith("checks[1]: ")
    assert natero.api.post(natero.url("/check/batch"), json={"checks": []}).json() == {"results": [], "revision": r.json()["revision"]}


def test_K12_fields_filter_drops_unreadable_fields(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    r = t.api.post(t.url("/roles"), json={"name": "Limited readers", "level": "limited"})
    assert r.status_code == 201, r.text
    # Exactly this field readable: the K8 starting selection replaced.
    r = t.api.patch(t.url(f"/roles/{r.json()['role']['id']}"), json={"field_access": {"account": {"health_notes": "read"}}})
    assert r.status_code == 200, r.text
    reader = invite(t, "r@acme.test", r.json()["role"]["id"])
    record = {"name": "Acme", "owner": "ann", "health_notes": "ok", "renewal_risk": "high", "undeclared": 1}
    r = t.api.post(t.url("/fields/filter"), json={"member": reader, "object": "account", "record": record})
    assert r.status_code == 200, r.text
    assert r.json()["record"] == {"name": "Acme", "owner": "ann", "health_notes": "ok"}
    assert_problem(t.api.post(t.url("/fields/filter"), json={"member": reader, "object": "acount", "record": {}}), 422, "invalid_record")


def test_lookup_returns_a_filter_not_records(natero: Tenant) -> None:
    csm = csm_with_accounts(natero)
    r = natero.api.post(natero.url("/lookup"), json={"member": csm, "action": "accounts.view", "object": "account"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["object"] == "account"
    assert out["filter"] == {"op": "assignee", "path": [], "member": csm, "include": ["assigned"]}
    everything = natero.api.post(natero.url("/lookup"), json={"member": natero.owner, "action": "accounts.view", "object": "account"}).json()
    assert everything["filter"] == {"op": "all"}
    nothing = natero.api.post(natero.url("/lookup"), json={"member": "nobody", "action": "accounts.view", "object": "account"}).json()
    assert nothing["filter"] == {"op": "none"}
    tasks = natero.api.post(natero.url("/lookup"), json={"member": csm, "action": "tasks.view", "object": "task"}).json()
    assert tasks["filter"]["path"] == ["account"]
    r = natero.api.post(natero.url("/lookup"), json={"member": csm, "action": "accounts.view", "object": "task"})
    assert_problem(r, 422, "invalid_record")


def test_a_nul_in_a_decisions_member_or_action_is_an_unknown_name_not_an_error(natero: Tenant) -> None:
    # Member ids and actions of a decision are only looked up in the snapshot (never
    # sent to the database), so the body accepts a NUL and the answer is "no such
    # member / action", before any record is read.
    csm = csm_with_accounts(natero)
    record = {"type": "account", "id": "mine"}
    d = check(natero, member="m\x00", action="accounts.view", record=record)
    assert (d["allowed"], d["reasons"][0]["code"]) == (False, "unknown_member")
    r = natero.api.post(natero.url("/check"), json={"member": csm, "action": "accounts.view\x00", "record": record})
    assert_problem(r, 422, "unknown_action")
    batch = {"checks": [{"member": csm, "action": "accounts.view", "record": record}, {"member": "m\x00", "action": "accounts.view", "record": record}]}
    r = natero.api.post(natero.url("/check/batch"), json=batch)
    assert r.status_code == 200, r.text
    assert [(x["allowed"], x["reasons"][0]["code"]) for x in r.json()["results"]] == [(True, "granted"), (False, "unknown_member")]
