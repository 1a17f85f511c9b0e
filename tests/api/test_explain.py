"""`POST .../explain`: the decision of `/check` and the engine's chain of reasons, over
HTTP, with a decide key."""

from __future__ import annotations

from typing import Any

from rolegate.bootstrap import Rolegate
from rolegate.services.api_keys import create_api_key
from tests.api.conftest import Tenant, assert_problem
from tests.api.test_decisions import csm_with_accounts


def explain(t: Tenant, **body: Any) -> dict[str, Any]:
    r = t.api.post(t.url("/explain"), json=body)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_explain_answers_like_check_and_says_why(natero: Tenant) -> None:
    csm = csm_with_accounts(natero)
    for body in (
        {"member": csm, "action": "accounts.update_attributes"},
        {"member": csm, "action": "settings.create_workflows"},
        {"member": csm, "action": "accounts.view", "record": {"type": "account", "id": "theirs"}},
    ):
        why = explain(natero, **body)
        checked = natero.api.post(natero.url("/check"), json=body).json()
        assert {k: why[k] for k in checked} == checked
        assert why["member"] == csm
        assert why["role"] == "csm"
        assert why["role_name"]
        assert why["level"]
        assert why["lines"][0].startswith("ALLOWED" if checked["allowed"] else "DENIED")
        assert any(f"holds role {why['role_name']!r}" in line for line in why["lines"])
    denied = explain(natero, member=csm, action="accounts.view", record={"type": "account", "id": "theirs"})
    assert denied["reasons"][-1] == {
        "code": "record_out_of_scope",
        "message": denied["reasons"][-1]["message"],
        "permission": denied["reasons"][-1]["permission"],
        "rule": "N11",
    }
    assert "[N11]" in denied["lines"][-1]


def test_explain_of_an_unknown_member_is_a_denial_not_an_error(natero: Tenant) -> None:
    why = explain(natero, member="nobody", action="accounts.view")
    assert why["allowed"] is False
    assert why["role"] is None
    assert why["reasons"][0]["code"] == "unknown_member"


def test_explain_errors_are_problems_like_check(natero: Tenant) -> None:
    body = assert_problem(
        natero.api.post(natero.url("/explain"), json={"member": natero.owner, "action": "accounts.veiw"}),
        422,
        "unknown_action",
    )
    assert "accounts.view" in body["detail"]
    r = natero.api.post(
        natero.url("/explain"),
        json={"member": natero.owner, "action": "accounts.view", "record": {"type": "task", "id": "x"}},
    )
    assert_problem(r, 422, "invalid_record")
    assert_problem(natero.api.post(natero.url("/explain"), json={"member": natero.owner}), 422, "request_invalid")


def test_explain_needs_a_decide_key(rolegate: Rolegate, org: str, natero: Tenant) -> None:
    admin_only = create_api_key(rolegate.uow(), organization_id=org, rights={"admin"}, name="admin")
    r = natero.api.as_(key=admin_only).post(
        natero.url("/explain"), json={"member": natero.owner, "action": "accounts.view"}
    )
    assert_problem(r, 403, "key_forbidden")
    decider = create_api_key(rolegate.uow(), organization_id=org, rights={"decide"}, name="decider")
    assert (
        natero.api.as_(key=decider)
        .post(natero.url("/explain"), json={"member": natero.owner, "action": "accounts.view"})
        .status_code
        == 200
    )


def test_openapi_documents_explain(natero: Tenant) -> None:
    doc = natero.api.without_key().get("/openapi.json").json()
    op = doc["paths"]["/v1/workspaces/{workspace_id}/explain"]["post"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/ExplainOut")
    assert "lines" in doc["components"]["schemas"]["ExplainOut"]["properties"]
    assert op["security"] == [{"ApiKey": []}]
