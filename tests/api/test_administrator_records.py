"""Administrator records (E7, seed 003) over HTTP, on SQLite and PostgreSQL: a member with
"Account Administrators" lists, creates, edits and deletes them, never assigning a role:
a new record gets the workspace's default role, and only a site administrator changes it."""

from __future__ import annotations

from tests.api.conftest import assert_problem
from tests.api.test_sites import SiteApi, _member, _role, backend, site

__all__ = ["backend", "site"]


def test_E7_account_administrator_lists_creates_edits_and_deletes_records_without_assigning_roles(
    site: SiteApi,
) -> None:
    acct_role = _role(site, site.a, "Account admin", ["settings.view", "settings.account_administrators"])
    acct = _member(site, site.a, "acct@acme.test", acct_role)
    as_acct = site.api.as_(actor=acct)
    listed = as_acct.get(site.url(site.a, "/administrator-records")).json()
    assert {r["email"] for r in listed["items"]} == {"owner-acme-a@acme.test", "acct@acme.test"}
    assert {r["may_assign_roles"] for r in listed["items"]} == {False}
    # create: no role in the body; the record gets the workspace's default role
    refused = as_acct.post(
        site.url(site.a, "/administrator-records"), json={"email": "new@acme.test", "role": "site_administrator"}
    )
    assert refused.status_code == 422, refused.text
    r = as_acct.post(site.url(site.a, "/administrator-records"), json={"email": "New@acme.test", "name": "Nora New"})
    assert r.status_code == 201, r.text
    record = r.json()["record"]
    assert (record["email"], record["name"], record["status"], record["role"]) == (
        "new@acme.test",
        "Nora New",
        "invited",
        "analyst",
    )
    new = record["member_id"]
    # edit: the name; the role only by a site administrator
    r = as_acct.patch(site.url(site.a, f"/members/{new}/record"), json={"name": "Nora N."})
    assert r.status_code == 200, r.text
    assert_problem(
        as_acct.patch(site.url(site.a, f"/members/{new}"), json={"role": "content_editor"}),
        403,
        "permission_denied",
        rule="E7",
    )
    assert site.admin.patch(site.url(site.a, f"/members/{new}"), json={"role": "content_editor"}).status_code == 200
    # delete: the record goes, the audit says who did it
    r = as_acct.delete(site.url(site.a, f"/members/{new}/record"))
    assert r.status_code == 200, r.text
    assert r.json()["member"]["email"] == "new@acme.test"
    after = as_acct.get(site.url(site.a, "/administrator-records")).json()
    assert "new@acme.test" not in {x["email"] for x in after["items"]}
    assert after["revision"] == r.json()["revision"]
    events = site.admin.get(site.url(site.a, "/audit"), params={"action": "member.delete"}).json()["events"]
    assert [(e["target_id"], e["actor"]) for e in events] == [(new, f"member:{acct}")]


def test_E7_records_holding_more_than_the_account_administrator_are_not_theirs_to_delete(site: SiteApi) -> None:
    acct_role = _role(site, site.a, "Account admin", ["settings.view", "settings.account_administrators"])
    acct = _member(site, site.a, "acct@acme.test", acct_role)
    as_acct = site.api.as_(actor=acct)
    body = assert_problem(as_acct.delete(site.url(site.a, f"/members/{site.owner_a}/record")), 409, "rule_violation")
    assert "E7" in {v["rule"] for v in body["violations"]}  # (and E1: the last site administrator)
    # Deleting yourself: email marketing states no such rule, so no seed id (C5 is customersuccessbox's).
    mine = assert_problem(as_acct.delete(site.url(site.a, f"/members/{acct}/record")), 409, "rule_violation")
    assert (mine["rule"], [v["code"] for v in mine["violations"]]) == (None, ["self_change"])
    plain = _member(site, site.a, "plain@acme.test", "analyst")
    assert_problem(
        site.api.as_(actor=plain).get(site.url(site.a, "/administrator-records")), 403, "permission_denied", rule="E7"
    )
    assert_problem(
        site.api.as_(actor=plain).post(site.url(site.a, "/administrator-records"), json={"email": "x@acme.test"}),
        403,
        "permission_denied",
        rule="E7",
    )
    assert_problem(
        site.api.as_(actor=plain).delete(site.url(site.a, f"/members/{acct}/record")),
        403,
        "permission_denied",
        rule="E7",
    )
