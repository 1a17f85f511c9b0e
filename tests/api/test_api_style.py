"""One API style (issue 14, item 13): every list is an object with its items, the
revision and `next_cursor`; a member reads alone; an invalid enum in a query string is
a 422; a role edit never restates its license's locked floor (T7); an unknown member
id in the field decisions is a 404, as docs/errors.md says."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def test_members_roles_invitations_and_audit_lists_carry_items_revision_and_next_cursor(natero: Tenant) -> None:
    invite(natero, "cat@acme.test", "guest", activate=False)
    revision = natero.api.get(natero.url("/roles")).json()["revision"]
    members = natero.api.get(natero.url("/members")).json()
    assert {m["email"] for m in members["members"]} == {"owner@natero.test", "cat@acme.test"}
    assert (members["revision"], members["next_cursor"]) == (revision, None)
    invitations = natero.api.get(natero.url("/invitations")).json()
    assert [i["email"] for i in invitations["invitations"]] == ["cat@acme.test"]
    assert (invitations["revision"], invitations["next_cursor"]) == (revision, None)
    roles = natero.api.get(natero.url("/roles")).json()
    assert roles["roles"]
    assert roles["next_cursor"] is None
    audit = natero.api.get(natero.url("/audit"), params={"limit": 1}).json()
    assert audit["revision"] == revision
    assert len(audit["events"]) == 1
    assert audit["next_cursor"] == str(audit["next_after_seq"])  # the old field stays
    following = natero.api.get(natero.url("/audit"), params={"limit": 1, "cursor": audit["next_cursor"]}).json()
    assert following["events"][0]["seq"] > audit["events"][0]["seq"]
    assert following == natero.api.get(natero.url("/audit"), params={"limit": 1, "after_seq": audit["next_after_seq"]}).json()
    last = natero.api.get(natero.url("/audit"), params={"limit": 1000}).json()
    assert (last["next_cursor"], last["next_after_seq"]) == (None, None)


def _walk(t: Tenant, path: str, items: str, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    params: dict[str, str | int] = {"limit": limit}
    while True:
        r = t.api.get(t.url(path), params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append([i["id"] for i in body[items]])
        if body["next_cursor"] is None:
            return pages
        params = {"limit": limit, "cursor": body["next_cursor"]}


def test_members_roles_and_invitations_come_in_pages_with_a_cursor_exactly_when_more_follow(natero: Tenant) -> None:
    for n in range(5):
        invite(natero, f"m{n}@acme.test", "guest", activate=False)
    for path, items in (("/members", "members"), ("/invitations", "invitations"), ("/roles", "roles")):
        whole = [i["id"] for i in natero.api.get(natero.url(path), params={"limit": 1000}).json()[items]]
        pages = _walk(natero, path, items, 2)
        assert [i for p in pages for i in p] == whole, path  # every item once, in order
        assert all(len(p) == 2 for p in pages[:-1]), (path, pages)
        assert 1 <= len(pages[-1]) <= 2, (path, pages)
        assert len(pages) == (len(whole) + 1) // 2
    first = natero.api.get(natero.url("/members"), params={"limit": 2}).json()
    # A member added between two pages is listed (last: the newest), none is repeated or skipped.
    invite(natero, "late@acme.test", "guest", activate=False)
    rest = _walk_from(natero, first["next_cursor"])
    assert [m["email"] for m in first["members"]] + rest == ["owner@natero.test", *[f"m{n}@acme.test" for n in range(5)], "late@acme.test"]


def _walk_from(t: Tenant, cursor: str) -> list[str]:
    emails: list[str] = []
    while cursor is not None:
        body = t.api.get(t.url("/members"), params={"limit": 2, "cursor": cursor}).json()
        emails += [m["email"] for m in body["members"]]
        cursor = body["next_cursor"]
    return emails


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "x"}, {"cursor": "a b"}, {"cursor": "x" * 201}])
def test_a_bad_page_request_is_a_422_that_names_the_parameter(natero: Tenant, params: dict[str, object]) -> None:
    body = assert_problem(natero.api.get(natero.url("/members"), params=params), 422, "request_invalid")
    assert next(iter(params)) in str(body["errors"])


def test_a_member_can_be_read_alone(natero: Tenant) -> None:
    member = invite(natero, "cat@acme.test", "guest")
    r = natero.api.get(natero.url(f"/members/{member}"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["member"]["id"], body["member"]["email"], body["member"]["status"]) == (member, "cat@acme.test", "active")
    assert body["revision"] == natero.api.get(natero.url("/members")).json()["revision"]
    assert_problem(natero.api.get(natero.url("/members/nobody")), 404, "not_found")


@pytest.mark.parametrize("status", ["bogus", "Active", ""])
def test_an_invalid_member_status_filter_is_a_422(natero: Tenant, status: str) -> None:
    body = assert_problem(natero.api.get(natero.url("/members"), params={"status": status}), 422, "request_invalid")
    assert "status" in str(body["errors"])
    assert natero.api.get(natero.url("/members"), params={"status": "active"}).status_code == 200


def test_T7_a_role_edit_never_restates_the_licenses_locked_floor(api: Api) -> None:
    t = make_tenant(api, "telephony")
    r = t.api.post(t.url("/roles"), json={"name": "Ops", "level": "administrator", "grants": ["numbers.view"]})
    assert r.status_code == 201, r.text
    role = r.json()["role"]["id"]
    floor = set(r.json()["role"]["effective"])
    assert "users.manage" in floor  # part of the Administrator license (T5)
    r = t.api.patch(t.url(f"/roles/{role}"), json={"grants": ["roles.view"]})  # the floor is implied
    assert r.status_code == 200, r.text
    assert set(r.json()["role"]["effective"]) == floor | {"roles.view"}
    r = t.api.patch(t.url(f"/roles/{role}"), json={"grants": []})
    assert r.status_code == 200, r.text
    assert set(r.json()["role"]["effective"]) == floor  # the floor stays: it cannot be unticked
    r = t.api.patch(t.url(f"/roles/{role}"), json={"level": "analyst", "grants": ["numbers.view"]})
    assert r.status_code == 200, r.text
    assert set(r.json()["role"]["effective"]) == {"numbers.view", "reports.view"}  # a lower license drops it


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/fields/filter", {"member": "nobody", "object": "account", "record": {"arr": 1}}),
        ("/fields/filter", {"member": "nobody", "object": "account", "records": [{"arr": 1}]}),
        ("/fields/check-write", {"member": "nobody", "object": "account", "changes": {"arr": 1}}),
        ("/fields/visible", {"member": "nobody", "object": "account"}),
    ],
)
def test_an_unknown_member_in_the_field_decisions_is_a_404(natero: Tenant, path: str, body: dict[str, object]) -> None:
    problem = assert_problem(natero.api.post(natero.url(path), json=body), 404, "not_found")
    assert "no member 'nobody'" in problem["detail"]
    disabled = invite(natero, "gone@acme.test", "guest")
    assert natero.api.post(natero.url(f"/members/{disabled}/disable")).status_code == 200
    assert natero.api.post(natero.url(path), json={**body, "member": disabled}).status_code == 200  # known: decided


def test_a_record_can_be_read_alone(natero: Tenant) -> None:
    put = natero.api.put(natero.url("/records/account/acme"), json={})
    assert put.status_code == 200, put.text
    r = natero.api.get(natero.url("/records/account/acme"))
    assert r.status_code == 200, r.text
    assert r.json()["record"] == {"type": "account", "id": "acme", "parent": None, "assignee": None}
    assert r.json()["revision"] == put.json()["revision"]
    assert_problem(natero.api.get(natero.url("/records/account/nope")), 404, "not_found")
    assert natero.api.get(natero.url("/records/acount/acme")).status_code == 422


def test_N11_a_member_reads_alone_only_a_record_they_may_view(natero: Tenant) -> None:
    """A CSM reading Bob's account gets the same 404 as for an account that does not
    exist; their own reads as the host wrote it (N11: a CSM sees the accounts assigned
    to them)."""
    ann = invite(natero, "ann@acme.test", "csm")
    bob = invite(natero, "bob@acme.test", "csm")
    for record, assignee in (("mine", ann), ("bobs", bob), ("free", None)):
        assert natero.api.put(natero.url(f"/records/account/{record}"), json={"assignee": assignee}).status_code == 200
    as_ann = natero.api.as_(actor=ann)
    assert as_ann.get(natero.url("/records/account/mine")).json()["record"]["assignee"] == ann
    assert_problem(as_ann.get(natero.url("/records/account/free")), 404, "not_found")
    hidden = as_ann.get(natero.url("/records/account/bobs"))
    missing = as_ann.get(natero.url("/records/account/nobody"))
    assert_problem(hidden, 404, "not_found")
    assert hidden.json()["detail"].replace("bobs", "X") == missing.json()["detail"].replace("nobody", "X")
