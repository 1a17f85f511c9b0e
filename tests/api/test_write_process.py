"""Changes forwarded to a write process (`rolegate serve --write-process`, issue 18:
"mixed load without stalls"): which requests go, what they carry, what comes back,
and what the caller reads when the write process is gone or cuts an answer off.

The write process here is a real uvicorn on a Unix socket in a thread: the Rolegate
app itself (a change made through the deciding app, on one SQLite file), or an app
that records what reached it, or a socket that hangs up."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from anyio.from_thread import start_blocking_portal
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rolegate.api import write_process as write_process_module
from rolegate.api.limits import BODY_LIMIT
from rolegate.api.write_process import WriteForwarder, forwards, is_decision
from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from tests.api.conftest import Api, assert_problem, make_tenant
from tests.web.conftest import one, soup


@contextmanager
def write_process(app: ASGIApp, path: Path) -> Iterator[uvicorn.Server]:
    """`app` served on the Unix socket `path`, as `rolegate serve --write-process` runs it."""
    config = uvicorn.Config(app, uds=str(path), proxy_headers=True, forwarded_allow_ips="*", log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the write process did not start"
        assert time.monotonic() < deadline, "the write process did not start in 30 s"
        time.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass
class Recorder:
    """An ASGI app keeping each request it gets, and answering 201 with a header of its own."""

    seen: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # as Starlette's request does (ClientDisconnect): no route runs
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.seen.append(
            {"method": scope["method"], "raw_path": scope["raw_path"], "query": scope["query_string"], "client": scope["client"],
             "scheme": scope["scheme"], "headers": headers, "body": b"".join(chunks)}
        )
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json"), (b"x-written-by", b"write process")]})
        await send({"type": "http.response.body", "body": b'{"written": ', "more_body": True})
        await send({"type": "http.response.body", "body": b"true}"})


@pytest.fixture
def socket_path(tmp_path: Path) -> Path:
    return tmp_path / "writes.sock"


@pytest.fixture
def front(rolegate: Rolegate, admin_key: str, socket_path: Path) -> Iterator[Api]:
    """The app of a deciding process: the suite's database, changes sent to `socket_path`."""
    deciding = bootstrap(Settings(database_url=rolegate.settings.database_url, listen=False, write_process_socket=str(socket_path)))
    app = create_app(deciding)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 5555)), base_url="http://rolegate.test")
        try:
            yield Api(portal, client, admin_key)
        finally:
            portal.call(client.aclose)
            forwarder = getattr(app, "write_forwarder", None)
            assert isinstance(forwarder, WriteForwarder)
            portal.call(forwarder.aclose)  # the server's lifespan would close it
            deciding.close()


def test_a_change_through_a_deciding_process_is_made_by_the_write_process_and_decided_fresh(
    rolegate: Rolegate, front: Api, api: Api, socket_path: Path
) -> None:
    writer = create_app(rolegate)  # the write process: the same database, no socket to forward to
    with write_process(writer, socket_path):
        t = make_tenant(front, "telephony")  # POST /v1/workspaces: made over there
        owner = front.as_(actor=t.owner)
        r = owner.post(t.url("/members"), json={"email": "bob@telephony.test", "role": "analyst"})
        assert r.status_code == 201, r.text
        bob, revision = r.json()["member"]["id"], r.json()["revision"]
        # Read back through the suite's own app (no forwarding): it is in the database.
        assert api.as_(actor=t.owner).get(t.url(f"/members/{bob}")).json()["member"]["role"] == "analyst"
        # The deciding process decides at the write's revision: the change is seen.
        check = front.post(t.url("/check"), json={"member": bob, "action": "reports.view", "min_revision": revision})
        assert check.status_code == 200, check.text
        assert check.json()["revision"] >= revision
        # A refusal made over there comes back whole: its status, code and rule.
        refused = owner.patch(t.url(f"/members/{t.owner}"), json={"role": "analyst"})
        assert_problem(refused, 409, refused.json()["code"], rule=refused.json()["rule"])
        assert refused.json()["rule"] is not None


def test_a_body_over_the_limit_gets_the_write_process_s_own_refusal(rolegate: Rolegate, front: Api, socket_path: Path) -> None:
    """The deciding process streams a change's body on, and the write process's own
    limits answer it: 413 `body_too_large`, not a broken exchange."""
    with write_process(create_app(rolegate), socket_path):
        t = make_tenant(front, "telephony")
        huge = b'{"email": "' + b"a" * (BODY_LIMIT + 1024) + b'@x.test", "role": "analyst"}'
        r = front.as_(actor=t.owner).post(t.url("/members"), content=huge, headers={"Content-Type": "application/json"})
        assert_problem(r, 413, "body_too_large")
        # The connection is still good for the next change.
        assert front.as_(actor=t.owner).post(t.url("/members"), json={"email": "bob@telephony.test", "role": "analyst"}).status_code == 201


def test_changes_go_to_the_write_process_and_decisions_and_reads_stay(front: Api, socket_path: Path) -> None:
    recorder = Recorder()
    with write_process(recorder, socket_path):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = front.request(method, "/v1/workspaces/ws1/members/m1", json={"role": "csm"})
            assert (r.status_code, r.headers["x-written-by"], r.json()) == (201, "write process", {"written": True})
        assert [s["method"] for s in recorder.seen] == ["POST", "PUT", "PATCH", "DELETE"]
        # Decisions and reads are answered where they are asked: the recorder sees none.
        answered_here = [
            front.post("/v1/workspaces/ws1/check", json={"member": "m", "action": "a"}),
            front.post("/access/v1/evaluation", json={}),
            front.get("/v1/workspaces/ws1/roles"),
            front.get("/healthz"),
        ]
        assert all("x-written-by" not in r.headers for r in answered_here)
        assert [r.status_code for r in answered_here] == [404, 400, 422, 200]
        assert len(recorder.seen) == 4


def test_the_write_process_learns_the_caller_from_the_deciding_process_never_from_the_caller(front: Api, socket_path: Path) -> None:
    recorder = Recorder()
    with write_process(recorder, socket_path):
        sent = front.without_key().post(
            "/v1/workspaces/ws%2F1/roles?dry_run=1&x=%20",
            content=b'{"name": "Ops"}',
            headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https", "Forwarded": "for=6.6.6.6", "Content-Type": "application/json", "TE": "trailers"},
        )
        assert sent.status_code == 201
    seen = recorder.seen[0]
    # The address the deciding process resolved (here, the test client's), not the one claimed.
    assert seen["client"][0] == "203.0.113.7"
    assert seen["scheme"] == "http"
    assert "forwarded" not in seen["headers"]
    assert "te" not in seen["headers"]
    assert (seen["raw_path"], seen["query"]) == (b"/v1/workspaces/ws%2F1/roles", b"dry_run=1&x=%20")
    assert (seen["body"], seen["headers"]["content-type"], seen["headers"]["host"]) == (b'{"name": "Ops"}', "application/json", "rolegate.test")


def test_a_body_sent_in_pieces_reaches_the_write_process_whole(front: Api, socket_path: Path) -> None:
    recorder = Recorder()
    pieces = [json.dumps({"n": k}).encode() + b"\n" for k in range(50)]

    async def chunked() -> Any:
        for piece in pieces:
            yield piece

    with write_process(recorder, socket_path):
        r = front.portal.call(lambda: front.client.post("/v1/workspaces/ws1/records/bulk", content=chunked()))
        assert r.status_code == 201, r.text
    assert recorder.seen[0]["body"] == b"".join(pieces)
    assert recorder.seen[0]["headers"].get("transfer-encoding") == "chunked"


def test_changes_reuse_the_connection_to_the_write_process(front: Api, socket_path: Path) -> None:
    held: list[object] = []  # uvicorn's protocol object of each connection, kept (no id reused)
    with write_process(Recorder(), socket_path) as server:
        for _ in range(5):
            assert front.post("/v1/workspaces/ws1/members", json={}).status_code == 201
            held.extend(c for c in server.server_state.connections if all(c is not h for h in held))
    assert len(held) == 1  # five changes, one after another, on one kept-alive connection


def test_a_connection_idle_past_the_keep_alive_is_not_reused(front: Api, socket_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forwarder lets go of an idle connection before the write process would (an
    hour): a change is never sent on a connection the other side is closing."""
    monkeypatch.setattr(write_process_module, "KEEP_ALIVE_SECONDS", 0.0)
    held: list[object] = []
    with write_process(Recorder(), socket_path) as server:
        for _ in range(3):
            assert front.post("/v1/workspaces/ws1/members", json={}).status_code == 201
            held.extend(c for c in server.server_state.connections if all(c is not h for h in held))
    assert len(held) == 3


def test_a_change_when_the_write_process_is_not_there_says_nothing_changed(front: Api) -> None:
    r = front.post("/v1/workspaces/ws1/members", json={"email": "a@b.test", "role": "csm"})
    body = assert_problem(r, 503, "unavailable")
    assert r.headers["Retry-After"] == "1"
    assert "nothing was changed" in body["detail"]
    assert body["detail"] == "Rolegate is restarting the process that makes changes; nothing was changed. Retry after 1 second."
    assert front.get("/healthz").status_code == 200  # everything else is still answered


def test_a_form_or_a_directory_sync_when_the_write_process_is_not_there_gets_its_own_door_s_answer(front: Api) -> None:
    """The admin UI's form gets the UI's error page, a directory's SCIM call a SCIM
    error: each in the form its reader understands, both with `Retry-After`."""
    said = "Rolegate is restarting the process that makes changes; nothing was changed."
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    page = front.without_key().post("/login", content=b"email=a%40b.test&password=not+this+one&next=%2F", headers=form)
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["Retry-After"] == "1"
    assert "Content-Security-Policy" in page.headers  # a page of the UI: its security headers too
    doc = soup(page)
    assert one(doc, ".error-page").get("data-problem") == "unavailable"
    assert one(doc, ".error-page .detail").get_text() == said
    assert one(doc, ".error-page .fix").get_text() == "What to do: Retry after 1 second."
    team = front.without_key().post("/w/ws1/team/invite", content=b"email=a%40b.test", headers=form)  # a workspace's form, no session
    assert (team.status_code, team.headers["content-type"][:9]) == (503, "text/html")
    directory = front.post("/scim/v2/workspaces/ws1/Users", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b.test"})
    assert directory.status_code == 503
    assert directory.headers["content-type"].startswith("application/scim+json")
    assert directory.headers["Retry-After"] == "1"
    error = directory.json()
    assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (error["status"], error["detail"]) == ("503", f"{said} Retry after 1 second.")


def test_an_answer_cut_off_says_the_change_may_have_been_applied(front: Api, socket_path: Path) -> None:
    """The write process read the change and died before answering: it may have run."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    listener.listen()

    def hang_up() -> None:
        conn, _ = listener.accept()
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        r = front.post("/v1/workspaces/ws1/members", json={"email": "a@b.test", "role": "csm"})
    finally:
        thread.join(10)
        listener.close()
    body = assert_problem(r, 503, "unavailable")
    assert "may have been applied" in body["detail"]
    assert "read it back" in body["detail"]
    assert body["detail"] == "The change was sent, but its answer was cut off. It may have been applied: read it back before repeating it."


def test_every_route_that_answers_a_question_by_post_stays_and_every_other_change_goes(rolegate: Rolegate) -> None:
    """A new route that decides by POST must be named in `is_decision`, or it would
    cost a hop to the write process; a route that changes something must never stay."""
    paths: dict[str, dict[str, Any]] = create_app(rolegate).openapi()["paths"]
    changing = {(method.upper(), path) for path, operations in paths.items() for method in operations if method not in ("get", "head", "options")}
    staying = {(method, path) for method, path in changing if not forwards(method, path.replace("{", "").replace("}", ""))}
    assert len(changing) > 60  # the API's changes, SCIM's and the portal's
    assert staying == {
        ("POST", "/v1/workspaces/{workspace_id}/check"),
        ("POST", "/v1/workspaces/{workspace_id}/check/batch"),
        ("POST", "/v1/workspaces/{workspace_id}/explain"),
        ("POST", "/v1/workspaces/{workspace_id}/lookup"),
        ("POST", "/v1/workspaces/{workspace_id}/fields/filter"),
        ("POST", "/v1/workspaces/{workspace_id}/fields/check-write"),
        ("POST", "/v1/workspaces/{workspace_id}/fields/visible"),
        ("POST", "/v1/workspaces/{workspace_id}/records/visible"),
        ("POST", "/access/v1/evaluation"),
        ("POST", "/access/v1/evaluations"),
        ("POST", "/access/v1/search/subject"),
        ("POST", "/access/v1/search/resource"),
        ("POST", "/access/v1/search/action"),
    }
    assert not is_decision("/v1/workspaces/ws1/check/extra")
    assert not is_decision("/v1/workspaces/ws1/members")
    assert forwards("POST", "/login")
    assert forwards("PATCH", "/scim/v2/workspaces/ws1/Users/u1")
    assert not forwards("GET", "/v1/workspaces/ws1/members")


def test_an_answer_given_before_the_body_was_read_reaches_the_caller(front: Api, socket_path: Path) -> None:
    """The write process may answer before reading a body (a refusal of the key): the
    caller gets that answer, not a broken exchange. (Had it also hung up, the answer is
    relayed when it arrived before the broken send was noticed, else 503 "nothing was
    changed": either is true, which one depends on timing.)"""

    async def refuse_early(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"refused": "early"}'})

    with write_process(refuse_early, socket_path):
        r = front.post("/v1/workspaces/ws1/members", content=b"x" * 900_000, headers={"Content-Type": "application/octet-stream"})
    assert (r.status_code, r.json()) == (401, {"refused": "early"})


def test_a_caller_gone_mid_body_leaves_nothing_run_and_no_error(socket_path: Path) -> None:
    """The caller hung up while sending its body: the write process never gets the
    request's end (no route runs), and the forwarder ends quietly (no 500 logged)."""
    import anyio

    recorder = Recorder()
    sent: list[Message] = []
    scope: Scope = {"type": "http", "method": "POST", "path": "/v1/workspaces/ws1/members", "raw_path": b"/v1/workspaces/ws1/members",
             "query_string": b"", "headers": [(b"host", b"rolegate.test"), (b"content-type", b"application/json")],
             "client": ("203.0.113.7", 5555), "scheme": "http"}
    messages: Iterator[Message] = iter([{"type": "http.request", "body": b'{"email": ', "more_body": True}, {"type": "http.disconnect"}])

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        forwarder = WriteForwarder(str(socket_path))
        await forwarder(scope, receive, send)
        await forwarder.aclose()

    with write_process(recorder, socket_path):
        anyio.run(run)
        time.sleep(0.2)  # what reached the write process has been read by now
    assert (sent, recorder.seen) == ([], [])
