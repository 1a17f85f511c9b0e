"""Every error is application/problem+json, including FastAPI's and Starlette's own."""

from __future__ import annotations

import anyio
import httpx
import pytest

from rolegate.api.problems import ApiError, ApiProblem, problem_response, rolegate_problem
from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import PermissionDeniedError
from tests.api.conftest import Api, Tenant, assert_problem


def test_malformed_json_is_a_request_problem(natero: Tenant) -> None:
    r = natero.api.post(natero.url("/check"), content=b"{not json", headers={"Content-Type": "application/json"})
    body = assert_problem(r, 422, "request_invalid")
    assert body["errors"]


def test_unknown_route_and_wrong_method(api: Api) -> None:
    assert_problem(api.get("/v2/nothing"), 404, "not_found")
    r = api.request("PUT", "/v1/workspaces")
    assert_problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"


def test_oversized_and_nul_strings_are_refused_before_the_store(natero: Tenant) -> None:
    assert_problem(natero.api.put(natero.url("/records/account/" + "x" * 201), json={}), 422, "request_invalid")
    assert_problem(natero.api.put(natero.url("/records/account/a%00b"), json={}), 422, "request_invalid")
    assert_problem(natero.api.post(natero.url("/members"), json={"email": "a\u0000@b.c", "role": "guest"}), 422, "request_invalid")
    assert_problem(natero.api.get(natero.url("/audit"), params={"after_seq": 2**63}), 422, "request_invalid")


def test_openapi_documents_errors_as_problems(api: Api) -> None:
    doc = api.without_key().get("/openapi.json").json()
    op = doc["paths"]["/v1/workspaces/{workspace_id}/roles/{role_id}"]["delete"]
    assert set(op["responses"]) >= {"200", "401", "403", "404", "409", "422"}
    assert list(op["responses"]["409"]["content"]) == ["application/problem+json"]
    assert "Problem" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert op["security"] == [{"ApiKey": []}]
    assert api.without_key().get("/docs").status_code == 200


def test_an_unexpected_error_is_a_500_problem_without_internals(rolegate: Rolegate) -> None:
    app = create_app(rolegate)

    async def boom() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/boom", boom)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://rolegate.test") as client:
            return await client.get("/boom")

    r = anyio.run(call)
    body = assert_problem(r, 500, "internal_error")
    assert "secret" not in body["detail"]


def test_the_refusing_rule_is_data_never_read_from_the_message() -> None:
    """A message that merely starts like a rule id names no rule: `rule` is what the
    error carries (`rule_id`), and only that."""
    plain = rolegate_problem(PermissionDeniedError("[N12] looks like a rule", decision=None))
    assert b'"rule":null' in plain.body
    tagged = rolegate_problem(PermissionDeniedError("may not manage roles", decision=None, rule_id="K13"))
    assert b'"rule":"K13"' in tagged.body


def test_the_table_decides_every_status() -> None:
    """A door that names a status other than its code's row is a bug, refused at once."""
    assert ApiError(ApiProblem.UNAUTHENTICATED, detail="no key").status == 401
    assert ApiError(ApiProblem.KEY_FORBIDDEN, 403, "no right").status == 403
    with pytest.raises(ValueError, match="answered with 401"):
        ApiError(ApiProblem.UNAUTHENTICATED, 403, "no key")
    with pytest.raises(ValueError, match="answered with 503"):
        problem_response(ApiProblem.NOT_READY.value, 500, "not migrated")
    assert problem_response(ApiProblem.HTTP_ERROR.value, 418, "teapot").status_code == 418
    with pytest.raises(ValueError, match="needs the status"):
        problem_response(ApiProblem.HTTP_ERROR.value, None, "which status?")
