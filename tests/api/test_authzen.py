"""The AuthZEN API's behaviour beyond the interop file: the metadata, which workspace a
key decides in (and the tenant boundary), errors, subjects by id or email, the
evaluations' defaults and semantics, and the three searches."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from rolegate.bootstrap import Rolegate
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key, organization_of
from rolegate.services.authzen import Directory, Subjects
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api, assert_problem, make_tenant
from tests.api.test_metrics import delta, scrape
from tests.authzen.todo import TodoApp, build_todo
from tests.security.test_outage import OutageFactory, outage  # noqa: F401  # the fixture

MORTY_TODO = "7240d0db-8ff0-41ec-98b2-34a096273b91"
RICK_TODO = "7240d0db-8ff0-41ec-98b2-34a096273b92"


@pytest.fixture
def todo(api: Api, rolegate: Rolegate, org: str) -> TodoApp:
    return build_todo(api, rolegate, org)


def ask(subject: str, action: str, todo_id: str = MORTY_TODO, rtype: str = "todo") -> dict[str, Any]:
    return {
        "subject": {"type": "user", "id": subject},
        "action": {"name": action},
        "resource": {"type": rtype, "id": todo_id},
    }


def decide(todo: TodoApp, body: dict[str, Any], api: Api | None = None) -> bool:
    r = (api or todo.decide).post("/access/v1/evaluation", json=body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    decision: bool = r.json()["decision"]
    return decision


def test_the_metadata_names_every_endpoint_under_the_base_url(api: Api) -> None:
    r = api.without_key().get("/.well-known/authzen-configuration")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "policy_decision_point": "http://rolegate.test",
        "access_evaluation_endpoint": "http://rolegate.test/access/v1/evaluation",
        "access_evaluations_endpoint": "http://rolegate.test/access/v1/evaluations",
        "search_subject_endpoint": "http://rolegate.test/access/v1/search/subject",
        "search_resource_endpoint": "http://rolegate.test/access/v1/search/resource",
        "search_action_endpoint": "http://rolegate.test/access/v1/search/action",
    }


def test_a_subject_is_a_member_id_or_an_email_in_any_case(todo: TodoApp) -> None:
    morty = todo.members["morty@the-citadel.com"]
    assert decide(todo, ask(morty, "can_update_todo")) is True
    assert decide(todo, ask("Morty@The-Citadel.com", "can_update_todo")) is True
    assert decide(todo, ask(morty, "can_update_todo", RICK_TODO)) is False
    assert decide(todo, ask("nobody@the-citadel.com", "can_read_todos")) is False
    assert decide(todo, ask("not-a-member", "can_read_todos")) is False
    body = ask(morty, "can_read_todos")
    body["subject"]["type"] = "service"
    assert decide(todo, body) is False


def test_properties_are_not_trusted_the_record_index_decides(todo: TodoApp) -> None:
    body = ask("morty@the-citadel.com", "can_update_todo", RICK_TODO)
    body["resource"]["properties"] = {"ownerID": "morty@the-citadel.com"}
    assert decide(todo, body) is False
    body = ask("morty@the-citadel.com", "can_update_todo", "no-such-todo")
    assert decide(todo, body) is False  # own scope: a record not in the index is nobody's


def test_a_new_member_is_known_by_email_at_the_next_revision(todo: TodoApp) -> None:
    assert decide(todo, ask("squanchy@the-citadel.com", "can_read_todos")) is False
    t = todo.tenant
    r = t.api.post(t.url("/members"), json={"email": "squanchy@the-citadel.com", "role": "viewer"})
    member = r.json()["member"]["id"]
    t.api.post(t.url(f"/members/{member}/activate"))
    assert decide(todo, ask("squanchy@the-citadel.com", "can_read_todos")) is True
    t.api.post(t.url(f"/members/{member}/disable"))
    assert decide(todo, ask("squanchy@the-citadel.com", "can_read_todos")) is False


def test_an_organization_key_names_the_workspace_and_never_reaches_another_tenant(
    todo: TodoApp, api: Api, rolegate: Rolegate
) -> None:
    body = ask("morty@the-citadel.com", "can_update_todo")
    problem = assert_problem(api.post("/access/v1/evaluation", json=body), 400, "bad_request")
    assert "Rolegate-Workspace" in problem["detail"]
    for bad in ("", "x" * 37):
        assert_problem(
            api.post("/access/v1/evaluation", json=body, headers={"Rolegate-Workspace": bad}), 400, "bad_request"
        )
    r = api.post("/access/v1/evaluation", json=body, headers={"Rolegate-Workspace": todo.tenant.id})
    assert r.status_code == 200
    assert r.json() == {"decision": True}
    other_org = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Other")
    other_key = create_api_key(rolegate.uow(), organization_id=other_org, rights={"admin", "decide"}, name="other")
    theirs = api.as_(key=other_key)
    assert_problem(
        theirs.post("/access/v1/evaluation", json=body, headers={"Rolegate-Workspace": todo.tenant.id}),
        404,
        "not_found",
    )
    assert_problem(
        theirs.post("/access/v1/evaluation", json=body, headers={"Rolegate-Workspace": "no-such-workspace"}),
        404,
        "not_found",
    )
    other = make_tenant(theirs, "natero")
    r = todo.decide.post("/access/v1/evaluation", json=body, headers={"Rolegate-Workspace": other.id})
    assert_problem(r, 404, "not_found")  # a workspace's own key decides there alone


def test_keys_and_rights(todo: TodoApp, api: Api, rolegate: Rolegate, org: str) -> None:
    body = ask("morty@the-citadel.com", "can_read_todos")
    assert_problem(api.without_key().post("/access/v1/evaluation", json=body), 401, "unauthenticated")
    admin_only = create_api_key(
        rolegate.uow(), organization_id=org, workspace_id=todo.tenant.id, rights={"admin"}, name="admin only"
    )
    assert_problem(api.as_(key=admin_only).post("/access/v1/evaluation", json=body), 403, "key_forbidden")


def test_a_request_of_the_wrong_shape_is_a_400_and_a_schema_error_a_422(todo: TodoApp) -> None:
    body = ask("morty@the-citadel.com", "can_read_todos")
    del body["subject"]["id"]
    problem = assert_problem(todo.decide.post("/access/v1/evaluation", json=body), 400, "bad_request")
    assert "subject.id" in problem["detail"]
    assert_problem(todo.decide.post("/access/v1/evaluation", content=b"not json"), 400, "bad_request")
    problem = assert_problem(
        todo.decide.post("/access/v1/evaluation", json=ask("morty@the-citadel.com", "can_raed_todos")),
        422,
        "unknown_action",
    )
    assert "can_read_todos" in problem["detail"]
    assert_problem(
        todo.decide.post("/access/v1/evaluation", json=ask("morty@the-citadel.com", "can_read_user", rtype="todo")),
        422,
        "invalid_record",
    )
    body = ask("morty@the-citadel.com", "can_read_todos")
    body["context"] = {"time": "1985-10-26T01:22-07:00"}
    body["extra"] = {"ignored": True}
    assert decide(todo, body) is True  # unknown keys are ignored (forward compatibility)


def test_evaluations_take_the_top_level_defaults_and_answer_errors_per_evaluation(todo: TodoApp) -> None:
    body = {
        "subject": {"type": "user", "id": "morty@the-citadel.com"},
        "action": {"name": "can_update_todo"},
        "evaluations": [
            {"resource": {"type": "todo", "id": MORTY_TODO}},
            {"resource": {"type": "todo", "id": RICK_TODO}},
            {"action": {"name": "can_raed_todos"}, "resource": {"type": "todo", "id": RICK_TODO}},
            {"subject": {"type": "user", "id": "rick@the-citadel.com"}, "resource": {"type": "todo", "id": MORTY_TODO}},
        ],
    }
    r = todo.decide.post("/access/v1/evaluations", json=body)
    assert r.status_code == 200, r.text
    got = r.json()["evaluations"]
    assert [e["decision"] for e in got] == [True, False, False, True]
    assert got[2]["context"]["error"]["code"] == "unknown_action"
    assert got[2]["context"]["error"]["status"] == 422
    assert "context" not in got[0]
    del body["action"]
    problem = assert_problem(todo.decide.post("/access/v1/evaluations", json=body), 400, "bad_request")
    assert "evaluations[0] has no action" in problem["detail"]


def test_evaluations_without_a_list_are_one_evaluation(todo: TodoApp) -> None:
    r = todo.decide.post("/access/v1/evaluations", json=ask("morty@the-citadel.com", "can_update_todo"))
    assert r.json() == {"decision": True}
    assert_problem(todo.decide.post("/access/v1/evaluations", json={"evaluations": []}), 400, "bad_request")


@pytest.mark.parametrize(
    ("semantic", "expected"),
    [
        ("execute_all", [True, False, True, False]),
        ("deny_on_first_deny", [True, False]),
        ("permit_on_first_permit", [True]),
    ],
)
def test_the_evaluation_semantics_stop_where_they_say(todo: TodoApp, semantic: str, expected: list[bool]) -> None:
    todos = [MORTY_TODO, RICK_TODO, MORTY_TODO, RICK_TODO]
    body = {
        "subject": {"type": "user", "id": "morty@the-citadel.com"},
        "action": {"name": "can_update_todo"},
        "evaluations": [{"resource": {"type": "todo", "id": t}} for t in todos],
        "options": {"evaluations_semantic": semantic},
    }
    r = todo.decide.post("/access/v1/evaluations", json=body)
    assert r.status_code == 200, r.text
    assert [e["decision"] for e in r.json()["evaluations"]] == expected


def test_deny_on_first_deny_stops_at_an_error_too(todo: TodoApp) -> None:
    body = {
        "subject": {"type": "user", "id": "morty@the-citadel.com"},
        "resource": {"type": "todo", "id": MORTY_TODO},
        "evaluations": [{"action": {"name": "nope"}}, {"action": {"name": "can_read_todos"}}],
        "options": {"evaluations_semantic": "deny_on_first_deny"},
    }
    got = todo.decide.post("/access/v1/evaluations", json=body).json()["evaluations"]
    assert len(got) == 1
    assert got[0]["decision"] is False
    assert got[0]["context"]["error"]["code"] == "unknown_action"
    body["options"] = {"evaluations_semantic": "first_come"}
    assert_problem(todo.decide.post("/access/v1/evaluations", json=body), 400, "bad_request")


def test_subject_search_lists_the_active_members_allowed_in_pages(todo: TodoApp) -> None:
    body: dict[str, Any] = {
        "subject": {"type": "user"},
        "action": {"name": "can_update_todo"},
        "resource": {"type": "todo", "id": MORTY_TODO},
    }
    r = todo.decide.post("/access/v1/search/subject", json=body)
    assert r.status_code == 200, r.text
    found = r.json()
    owner = todo.tenant.owner
    rick, morty = todo.members["rick@the-citadel.com"], todo.members["morty@the-citadel.com"]
    assert found["results"] == [
        {"type": "user", "id": m} for m in (owner, rick, morty)
    ]  # no email: a decide key reads no personal data
    assert found["page"] == {"next_token": "", "count": 3}
    body["page"] = {"limit": 2}
    first = todo.decide.post("/access/v1/search/subject", json=body).json()
    assert [s["id"] for s in first["results"]] == [owner, rick]
    assert first["page"]["next_token"]
    body["page"] = {"limit": 2, "token": first["page"]["next_token"]}
    second = todo.decide.post("/access/v1/search/subject", json=body).json()
    assert [s["id"] for s in second["results"]] == [morty]
    assert second["page"]["next_token"] == ""
    body["action"] = {"name": "can_delete_todo"}  # another query: the token is refused
    assert_problem(todo.decide.post("/access/v1/search/subject", json=body), 400, "bad_request")
    body = {
        "subject": {"type": "group"},
        "action": {"name": "can_read_todos"},
        "resource": {"type": "todo", "id": MORTY_TODO},
    }
    assert todo.decide.post("/access/v1/search/subject", json=body).json()["results"] == []


def test_resource_search_lists_the_records_the_member_may_act_on(todo: TodoApp) -> None:
    body: dict[str, Any] = {
        "subject": {"type": "user", "id": "morty@the-citadel.com"},
        "action": {"name": "can_update_todo"},
        "resource": {"type": "todo"},
    }
    r = todo.decide.post("/access/v1/search/resource", json=body)
    assert r.status_code == 200, r.text
    assert r.json() == {"page": {"next_token": "", "count": 1}, "results": [{"type": "todo", "id": MORTY_TODO}]}
    body["subject"]["id"] = "rick@the-citadel.com"
    body["page"] = {"limit": 4}
    first = todo.decide.post("/access/v1/search/resource", json=body).json()
    assert first["page"]["count"] == 4
    assert first["page"]["next_token"]
    body["page"] = {"limit": 4, "token": first["page"]["next_token"]}
    second = todo.decide.post("/access/v1/search/resource", json=body).json()
    assert second["page"] == {"next_token": "", "count": 2}
    ids = [x["id"] for x in first["results"] + second["results"]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 6
    body = {
        "subject": {"type": "user", "id": "beth@the-smiths.com"},
        "action": {"name": "can_update_todo"},
        "resource": {"type": "todo"},
    }
    assert todo.decide.post("/access/v1/search/resource", json=body).json()["results"] == []
    body["resource"] = {"type": "user"}
    assert_problem(todo.decide.post("/access/v1/search/resource", json=body), 422, "invalid_record")


def test_action_search_lists_the_actions_allowed_on_the_resource(todo: TodoApp) -> None:
    def actions(subject: str, rtype: str, rid: str) -> list[str]:
        body = {"subject": {"type": "user", "id": subject}, "resource": {"type": rtype, "id": rid}}
        r = todo.decide.post("/access/v1/search/action", json=body)
        assert r.status_code == 200, r.text
        return [a["name"] for a in r.json()["results"]]

    assert actions("morty@the-citadel.com", "todo", MORTY_TODO) == [
        "can_read_todos",
        "can_create_todo",
        "can_update_todo",
        "can_delete_todo",
    ]
    assert actions("morty@the-citadel.com", "todo", RICK_TODO) == ["can_read_todos", "can_create_todo"]
    assert actions("beth@the-smiths.com", "user", "rick@the-citadel.com") == ["can_read_user"]
    assert actions("beth@the-smiths.com", "workspace", "todo") == []
    assert "team.manage_roles" in actions("owner@todo.example", "workspace", "todo")


def test_the_openapi_document_describes_the_authzen_routes(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    evaluation = doc["paths"]["/access/v1/evaluation"]["post"]
    assert evaluation["security"] == [{"ApiKey": []}]
    schema = evaluation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"subject", "action", "resource"}
    assert schema["properties"]["subject"]["properties"]["id"]["type"] == "string"
    assert doc["paths"]["/.well-known/authzen-configuration"]["get"]["security"] == []


def test_subjects_serve_a_directory_up_to_its_revision_and_age() -> None:
    now = [0.0]
    subjects = Subjects(ttl=10.0, clock=lambda: now[0])
    d = Directory(5, {"ann@x.test": "m1"}, (("m1", "ann@x.test", MemberStatus.ACTIVE),))
    assert subjects.current("ws", 5) is None
    subjects.remember("ws", d)
    assert subjects.current("ws", 5) is d
    assert subjects.current("ws", 4) is d  # an older snapshot: the members it knew are here
    assert subjects.current("ws", 6) is None  # a newer one: read again
    now[0] = 10.5
    assert subjects.current("ws", 5) is None  # an email may have changed without a revision
    assert subjects.last("ws") is d
    assert d.member("user", "ANN@x.test") == "m1"
    assert d.member("user", "m1") == "m1"
    assert d.member("user", "nobody@x.test") == "nobody@x.test"  # names no member: denied
    assert d.member("group", "m1") is None


def test_emails_are_read_once_per_revision_and_answer_from_the_last_read_while_the_store_is_down(
    todo: TodoApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert decide(todo, ask("morty@the-citadel.com", "can_update_todo")) is True

    def unreachable(*_args: object, **_kw: object) -> Directory:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("rolegate.api.routes.authzen.load_directory", unreachable)
    assert decide(todo, ask("morty@the-citadel.com", "can_update_todo")) is True  # no read: the directory is held
    monkeypatch.setattr(todo_subjects(todo), "_ttl", -1.0)  # expired: the next decision reads again, and cannot
    assert decide(todo, ask("morty@the-citadel.com", "can_update_todo")) is True
    assert decide(todo, ask("morty@the-citadel.com", "can_update_todo", RICK_TODO)) is False


def org_of(env: Any) -> str:
    org: str | None = organization_of(env.rolegate.reader(), env.workspace_id)
    assert org is not None
    return org


def todo_subjects(todo: TodoApp) -> Subjects:
    """The app's directory cache, reached through the ASGI transport of the test client."""
    transport = todo.decide.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    held: Subjects = transport.app.state.authzen_subjects  # type: ignore[attr-defined]
    return held


def test_the_request_id_of_the_pep_comes_back(todo: TodoApp) -> None:
    rid = "bfe9eb29-ab87-4ca3-be83-a1d5d8305716"
    r = todo.decide.post(
        "/access/v1/evaluation", json=ask("morty@the-citadel.com", "can_read_todos"), headers={"X-Request-ID": rid}
    )
    assert r.status_code == 200
    assert r.headers["x-request-id"] == rid


def test_authzen_decisions_are_counted_by_route_and_result(todo: TodoApp) -> None:
    before = scrape(todo.tenant.api)
    assert decide(todo, ask("morty@the-citadel.com", "can_update_todo")) is True
    assert decide(todo, ask("morty@the-citadel.com", "can_update_todo", RICK_TODO)) is False
    body: dict[str, Any] = {
        "subject": {"type": "user", "id": "beth@the-smiths.com"},
        "resource": {"type": "todo", "id": MORTY_TODO},
    }
    body["evaluations"] = [
        {"action": {"name": "can_read_todos"}},
        {"action": {"name": "can_create_todo"}},
        {"action": {"name": "can_delete_todo"}},
    ]
    assert todo.decide.post("/access/v1/evaluations", json=body).status_code == 200
    after = scrape(todo.tenant.api)
    assert delta(before, after, "rolegate_decisions_total", route="authzen_evaluation", result="allowed") == 1
    assert delta(before, after, "rolegate_decisions_total", route="authzen_evaluation", result="denied") == 1
    assert delta(before, after, "rolegate_decisions_total", route="authzen_evaluations", result="allowed") == 1
    assert delta(before, after, "rolegate_decisions_total", route="authzen_evaluations", result="denied") == 2


def test_an_outage_answers_evaluations_from_the_cache_saying_how_stale(outage: OutageFactory) -> None:  # noqa: F811  # the imported fixture
    env = outage()
    ws_key = create_api_key(
        env.rolegate.uow(), organization_id=org_of(env), workspace_id=env.workspace_id, rights={"decide"}, name="pep"
    )
    headers = {"Authorization": f"Bearer {ws_key}"}

    def evaluation(subject: str) -> httpx.Response:
        body = {
            "subject": {"type": "user", "id": subject},
            "action": {"name": "accounts.view"},
            "resource": {"type": "account", "id": "acc-1"},
        }
        return env.portal.call(lambda: env.client.post("/access/v1/evaluation", json=body, headers=headers))

    transport = env.client._transport
    assert isinstance(transport, httpx.ASGITransport)
    transport.app.state.authzen_subjects = Subjects(ttl=0.0)  # type: ignore[attr-defined]  # every email reads the directory again
    fresh = evaluation("owner@outage.test")  # reads the email directory and compiles the snapshot
    assert fresh.json() == {"decision": True}
    assert "Rolegate-Stale" not in fresh.headers
    env.proxy.cut()
    time.sleep(0.3)  # past the staleness bound and the key's TTL
    for subject in ("owner@outage.test", env.owner):  # the email from the directory read last
        r = evaluation(subject)
        assert r.status_code == 200, r.text
        assert r.json() == {"decision": True}
        assert r.headers["Rolegate-Stale"] == "true"
    env.proxy.restore()


def test_a_directory_is_read_once_for_the_requests_that_wait_on_it() -> None:
    subjects = Subjects()
    reads: list[int] = []
    started = threading.Event()
    release = threading.Event()

    def slow_read() -> Directory:
        reads.append(1)
        started.set()
        release.wait(5)
        return Directory(3, {}, ())

    got: list[Directory] = []
    threads = [threading.Thread(target=lambda: got.append(subjects.get("ws", 3, slow_read))) for _ in range(4)]
    threads[0].start()
    assert started.wait(5)
    for t in threads[1:]:
        t.start()
    time.sleep(0.2)  # the others are asking meanwhile (without the lock each would read)
    release.set()
    for t in threads:
        t.join(5)
    assert len(reads) == 1
    assert len(got) == 4
    assert all(d is got[0] for d in got)

    def unreachable() -> Directory:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    assert subjects.get("ws", 4, unreachable) is got[0]  # newer wanted, store down: the last read
    with pytest.raises(OperationalError):
        subjects.get("other", 1, unreachable)  # nothing read before: the outage shows (503)
