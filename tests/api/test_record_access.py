"""Record-level access over HTTP, on SQLite and on PostgreSQL: records in bulk,
assignments (N9, N12), pages of visible ids (`POST .../records/visible`) that agree
with `check` and `lookup` (N11, N13, C3), child records at depth 1 and 2 (C7)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant
from tests.pg import postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def rolegate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    """The API's Rolegate on SQLite, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False))
        rg.create_tables()
        yield rg
        rg.close()
        return
    with postgres_url() as url:
        rg = bootstrap(Settings(database_url=url, listen=False))
        rg.create_tables()
        try:
            yield rg
        finally:
            rg.close()


@pytest.fixture
def csb(api: Api) -> Tenant:
    return make_tenant(api, "customersuccessbox")


def bulk(t: Tenant, records: list[dict[str, Any]]) -> dict[str, Any]:
    r = t.api.post(t.url("/records/bulk"), json={"records": records})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def pages(t: Tenant, member: str, action: str, obj: str, *, limit: int = 2) -> list[str]:
    ids: list[str] = []
    body: dict[str, Any] = {"member": member, "action": action, "object": obj, "limit": limit}
    while True:
        r = t.api.post(t.url("/records/visible"), json=body)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["ids"]) <= limit
        ids.extend(page["ids"])
        if page["next_cursor"] is None:
            return ids
        assert len(page["ids"]) == limit
        body["cursor"] = page["next_cursor"]


def allowed(t: Tenant, member: str, action: str, refs: list[tuple[str, str]]) -> list[str]:
    checks = [{"member": member, "action": action, "record": {"type": rt, "id": rid}} for rt, rid in refs]
    r = t.api.post(t.url("/check/batch"), json={"checks": checks})
    assert r.status_code == 200, r.text
    return sorted(rid for (_, rid), res in zip(refs, r.json()["results"], strict=True) if res["allowed"])


def lookup(t: Tenant, member: str, action: str, obj: str) -> dict[str, Any]:
    r = t.api.post(t.url("/lookup"), json={"member": member, "action": action, "object": obj})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()["filter"]
    return body


def csb_world(t: Tenant) -> tuple[str, str]:
    csm, other = invite(t, "csm@acme.test", "csm"), invite(t, "other@acme.test", "csm")
    records: list[dict[str, Any]] = []
    for name, assignee in (("own", csm), ("free", None), ("other", other)):
        records.append({"type": "account", "id": f"a-{name}", "assignee": assignee})
        records.append({"type": "task", "id": f"t-{name}", "parent": {"type": "account", "id": f"a-{name}"}})
        records.append({"type": "task_comment", "id": f"c-{name}", "parent": {"type": "task", "id": f"t-{name}"}})
    done = bulk(t, records)
    assert (done["created"], done["assignments"]) == (9, 2)
    return csm, other


def test_N9_assignee_endpoint_refuses_a_member_without_the_csm_seat(natero: Tenant) -> None:
    guest, csm = invite(natero, "g@acme.test", "guest"), invite(natero, "c@acme.test", "csm")
    bulk(natero, [{"type": "account", "id": "acc-1"}])
    assert_problem(natero.api.put(natero.url("/records/account/acc-1/assignee"), json={"assignee": guest}), 409, "rule_violation", rule="N9")
    r = natero.api.post(natero.url("/records/bulk"), json={"records": [{"type": "account", "id": "acc-2", "assignee": guest}]})
    assert_problem(r, 409, "rule_violation", rule="N9")
    r = natero.api.put(natero.url("/records/account/acc-1/assignee"), json={"assignee": csm})
    assert r.status_code == 200, r.text
    assert r.json()["record"]["assignee"] == csm
    events = natero.api.get(natero.url("/audit"), params={"action": "record.assign"}).json()["events"]
    assert [(e["target_id"], e["after"]) for e in events] == [("acc-1", {"assignee": csm})]
    # Only a member with the assign-records right may assign (N12).
    r = natero.api.as_(actor=csm).put(natero.url("/records/account/acc-1/assignee"), json={"assignee": None})
    assert_problem(r, 403, "permission_denied", rule="N12")
    assert_problem(natero.api.put(natero.url("/records/account/ghost/assignee"), json={"assignee": csm}), 404, "not_found")


def test_N11_a_csm_pages_through_their_accounts_only(natero: Tenant) -> None:
    csm, guest = invite(natero, "c@acme.test", "csm"), invite(natero, "g@acme.test", "guest")
    bulk(natero, [{"type": "account", "id": f"a{i}", "assignee": csm if i % 2 else None} for i in range(7)])
    refs = [("account", f"a{i}") for i in range(7)]
    assert pages(natero, csm, "accounts.view", "account") == allowed(natero, csm, "accounts.view", refs) == ["a1", "a3", "a5"]
    assert pages(natero, guest, "accounts.view", "account", limit=3) == [f"a{i}" for i in range(7)]
    assert lookup(natero, csm, "accounts.view", "account")["include"] == ["assigned"]


def test_N13_update_accounts_reaches_only_visible_accounts(natero: Tenant) -> None:
    csm, executive = invite(natero, "c@acme.test", "csm"), invite(natero, "e@acme.test", "executive")
    bulk(natero, [{"type": "account", "id": "mine", "assignee": csm}, {"type": "account", "id": "free"}])
    bulk(natero, [{"type": "task", "id": f"t-{a}", "parent": {"type": "account", "id": a}} for a in ("mine", "free")])
    refs = [("task", "t-mine"), ("task", "t-free")]
    assert pages(natero, csm, "tasks.update", "task") == allowed(natero, csm, "tasks.update", refs) == ["t-mine"]
    assert pages(natero, executive, "tasks.update", "task") == allowed(natero, executive, "tasks.update", refs) == ["t-free", "t-mine"]


def test_C3_csm_own_and_unassigned_super_manager_all_developer_views_all(csb: Tenant) -> None:
    csm, _ = csb_world(csb)
    boss, dev = invite(csb, "boss@acme.test", "super_manager"), invite(csb, "dev@acme.test", "developer")
    refs = [("account", f"a-{n}") for n in ("own", "free", "other")]
    assert pages(csb, csm, "accounts.view", "account") == allowed(csb, csm, "accounts.view", refs) == ["a-free", "a-own"]
    assert lookup(csb, csm, "accounts.view", "account")["include"] == ["assigned", "unassigned"]
    assert pages(csb, boss, "accounts.update", "account") == ["a-free", "a-other", "a-own"]
    assert lookup(csb, boss, "accounts.update", "account") == {"op": "all"}
    assert pages(csb, dev, "accounts.view", "account") == ["a-free", "a-other", "a-own"]
    assert pages(csb, dev, "accounts.update", "account") == allowed(csb, dev, "accounts.update", refs) == []
    assert lookup(csb, dev, "accounts.update", "account") == {"op": "none"}


def test_C7_child_records_at_depth_one_and_two(csb: Tenant) -> None:
    csm, _ = csb_world(csb)
    tasks = [("task", f"t-{n}") for n in ("own", "free", "other")]
    comments = [("task_comment", f"c-{n}") for n in ("own", "free", "other")]
    assert pages(csb, csm, "tasks.view", "task") == allowed(csb, csm, "tasks.view", tasks) == ["t-free", "t-own"]
    assert pages(csb, csm, "task_comments.view", "task_comment") == allowed(csb, csm, "task_comments.view", comments) == ["c-free", "c-own"]
    assert lookup(csb, csm, "task_comments.view", "task_comment")["path"] == ["task", "account"]
    r = csb.api.post(csb.url("/check"), json={"member": csm, "action": "task_comments.update", "record": {"type": "task_comment", "id": "c-other"}})
    assert r.json()["allowed"] is False
    # Deleting the account takes its task and the task's comment with it.
    r = csb.api.post(csb.url("/records/delete"), json={"records": [{"type": "account", "id": "a-own"}]})
    assert r.status_code == 200, r.text
    assert (r.json()["deleted"], r.json()["orphaned"]) == (3, 0)
    assert pages(csb, csm, "task_comments.view", "task_comment") == ["c-free"]


def test_bulk_limits_and_bad_cursors_are_problems(csb: Tenant) -> None:
    too_many = [{"type": "account", "id": f"a{i}"} for i in range(10_001)]
    assert_problem(csb.api.post(csb.url("/records/bulk"), json={"records": too_many}), 422, "request_invalid")
    body = assert_problem(csb.api.post(csb.url("/records/bulk"), json={"records": [{"type": "task", "id": "t", "parent": {"type": "account", "id": "x"}}]}), 422, "invalid_record")
    assert "records[0]" in body["detail"]
    r = csb.api.post(csb.url("/records/visible"), json={"member": csb.owner, "action": "accounts.view", "object": "account", "cursor": "bm9wZQ"})
    assert_problem(r, 422, "invalid_record")
