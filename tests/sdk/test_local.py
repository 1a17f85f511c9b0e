"""Local decisions against a real server: the SDK's answers equal the server's (check,
explain, filter_fields, lookup), follow the change feed, read one's own writes with
`min_revision`, go to the server for record checks and past the staleness bound,
and stay right under concurrent use; the asyncio variant too."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from rolegate.domain.errors import PermissionDeniedError, UnknownActionError
from rolegate.domain.workspace import Actor
from rolegate.engine import InMemoryRecordIndex, Record, RecordRef
from rolegate.services.audit import prune_events, set_retention
from rolegate.store.repositories import utcnow
from rolegate_sdk import AsyncRolegate, RemoteClient, Rolegate
from tests.sdk.server import LiveServer, live_server

ACTIONS = ("accounts.view", "accounts.update_attributes", "settings.create_workflows", "account_users.view", "accounts.bulk_edit")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sdk")) as server:
        yield server


class Admin:
    def __init__(self, live: LiveServer) -> None:
        self.http = httpx.Client(base_url=f"{live.url}/v1/workspaces/{live.workspace_id}", headers={"Authorization": f"Bearer {live.admin_key}", "Rolegate-Actor": live.owner})

    def write(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        r = self.http.request(method, path, json=body)
        assert r.status_code in (200, 201), r.text
        out: dict[str, Any] = r.json()
        return out

    def member(self, email: str, role: str = "csm") -> tuple[str, int]:
        member = self.write("POST", "/members", {"email": email, "role": role})["member"]["id"]
        return member, int(self.write("POST", f"/members/{member}/activate")["revision"])


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> Iterator[Admin]:
    admin = Admin(live)
    yield admin
    admin.http.close()


@pytest.fixture
def sdk(live: LiveServer) -> Iterator[Rolegate]:
    with Rolegate(live.url, live.decide_key, live.workspace_id) as rg:
        yield rg


def test_local_answers_equal_the_servers(live: LiveServer, admin: Admin, sdk: Rolegate) -> None:
    csm, revision = admin.member("cat@acme.test")
    assert sdk.wait_for(revision, timeout=10)
    remote = RemoteClient(live.url, live.decide_key, live.workspace_id)
    for member in (live.owner, csm, "nobody"):
        for action in ACTIONS:
            local = sdk.check(member, action)
            assert local.allowed == remote.check(member, action).allowed
            assert local.to_json() == remote.check(member, action, min_revision=sdk.revision).to_json()
            assert sdk.explain(member, action).lines == remote.explain(member, action, min_revision=sdk.revision).lines
        if member != "nobody":
            row = {"name": "Acme", "arr": 10, "undeclared": 1}
            assert sdk.filter_fields(member, "account", row) == remote.filter_fields(member, "account", row)
            assert sdk.lookup(member, "accounts.view", "account") == remote.lookup(member, "accounts.view", "account")
    with pytest.raises(UnknownActionError):
        sdk.check(csm, "accounts.veiw")
    with pytest.raises(UnknownActionError):
        remote.check(csm, "accounts.veiw")
    with pytest.raises(PermissionDeniedError):
        sdk.require(csm, "settings.create_workflows")
    remote.close()


def test_the_feed_brings_each_write_and_min_revision_reads_it(live: LiveServer, admin: Admin, sdk: Rolegate) -> None:
    csm, _ = admin.member("dog@acme.test")
    assert sdk.wait_for(_revision(admin), timeout=10)
    assert sdk.check(csm, "accounts.view").allowed
    revision = int(admin.write("POST", f"/members/{csm}/disable")["revision"])
    decision = sdk.check(csm, "accounts.view", min_revision=revision)  # read your own write
    assert decision.allowed is False
    assert decision.revision >= revision
    assert sdk.remote_answers == 0  # the local snapshot answered
    assert sdk.check(csm, "accounts.view").allowed is False


def test_record_checks_go_to_the_server_at_least_at_the_revision_held(live: LiveServer, admin: Admin, sdk: Rolegate) -> None:
    csm, _ = admin.member("eel@acme.test")
    admin.write("PUT", "/records/account/mine", {"assignee": csm})
    revision = int(admin.write("PUT", "/records/account/theirs", {"assignee": live.owner})["revision"])
    before = sdk.remote_answers
    assert sdk.check(csm, "accounts.view", RecordRef("account", "mine"), min_revision=revision).allowed is True
    assert sdk.check(csm, "accounts.view", ("account", "theirs"), min_revision=revision).allowed is False
    assert sdk.remote_answers == before + 2


def test_a_record_index_of_the_host_decides_records_locally(live: LiveServer, admin: Admin) -> None:
    csm, revision = admin.member("fox@acme.test")
    index = InMemoryRecordIndex([Record("account", "mine", assignee=csm), Record("account", "theirs", assignee=live.owner)])
    with Rolegate(live.url, live.decide_key, live.workspace_id, records=index) as rg:
        assert rg.check(csm, "accounts.view", ("account", "mine"), min_revision=revision).allowed is True
        assert rg.check(csm, "accounts.view", ("account", "theirs")).allowed is False
        assert rg.remote_answers == 0


def test_past_the_staleness_bound_the_remote_api_answers(live: LiveServer) -> None:
    now = [0.0]
    with Rolegate(live.url, live.decide_key, live.workspace_id, follow=False, max_staleness=1.0, clock=lambda: now[0]) as rg:
        assert rg.fresh
        rg.check(live.owner, "accounts.view")
        assert rg.remote_answers == 0
        now[0] = 2.0
        rg._tick()  # what the watch thread does each interval
        assert not rg.fresh
        assert rg.check(live.owner, "accounts.view").allowed is True
        assert rg.remote_answers == 1
        assert rg.refresh() is False  # a successful revalidation (304) is news again
        assert rg.fresh
        rg.check(live.owner, "accounts.view")
        assert rg.remote_answers == 1


def test_min_revision_not_reached_in_time_asks_the_server(live: LiveServer, admin: Admin) -> None:
    with Rolegate(live.url, live.decide_key, live.workspace_id, follow=False, min_revision_timeout=0.2) as rg:
        _, revision = admin.member("gnu@acme.test")
        # Half way through the wait the SDK downloads the document itself: answered locally.
        assert rg.check(live.owner, "accounts.view", min_revision=revision).revision >= revision
        assert rg.remote_answers == 0
        # A revision nobody made yet: the server answers (and says it has not reached it).
        with pytest.raises(Exception, match="revision"):
            rg.check(live.owner, "accounts.view", min_revision=revision + 1000)
        assert rg.remote_answers == 1


def test_checks_from_many_threads_while_the_workspace_changes(live: LiveServer, admin: Admin, sdk: Rolegate) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def decide() -> None:
        try:
            while not stop.is_set():
                for action in ACTIONS:
                    sdk.check(live.owner, action)
                time.sleep(0.0005)  # the server runs in this process too: leave it the GIL
        except BaseException as error:  # any failure fails the test
            errors.append(error)

    threads = [threading.Thread(target=decide) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(5):
        admin.member(f"t{i}@acme.test")
    assert sdk.wait_for(_revision(admin), timeout=10)
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert sdk.check(live.owner, "accounts.view").allowed


def test_the_asyncio_variant(live: LiveServer, admin: Admin) -> None:
    async def run() -> None:
        async with AsyncRolegate(live.url, live.decide_key, live.workspace_id) as rg:
            assert (await rg.check(live.owner, "accounts.view")).allowed
            csm, revision = await asyncio.to_thread(admin.member, "hen@acme.test")
            assert (await rg.check(csm, "accounts.view", min_revision=revision)).revision >= revision
            assert (await rg.explain(csm, "accounts.view")).lines
            row = {"name": "x", "arr": 3, "undeclared": 1}
            assert await rg.filter_fields(csm, "account", row) == await rg.remote.filter_fields(csm, "account", row)
            assert (await rg.lookup(csm, "accounts.view", "account")).object_type == "account"
            with pytest.raises(PermissionDeniedError):
                await rg.require(csm, "settings.create_workflows")
            revision = int((await asyncio.to_thread(admin.write, "POST", f"/members/{csm}/disable"))["revision"])
            for _ in range(200):  # the feed brings it without asking
                if rg.revision >= revision:
                    break
                await asyncio.sleep(0.02)
            assert rg.revision >= revision
            assert (await rg.check(csm, "accounts.view")).allowed is False
            assert rg.remote_answers == 0

    asyncio.run(run())


def _revision(admin: Admin) -> int:
    return int(admin.http.get(str(admin.http.base_url).rstrip("/")).json()["revision"])


def test_an_sdk_behind_the_retention_downloads_the_snapshot_and_resumes(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        admin = Admin(server)
        try:
            with Rolegate(server.url, server.decide_key, server.workspace_id, follow=False) as rg:
                held = rg.revision
                for i in range(3):
                    admin.member(f"late{i}@acme.test")
                owner = Actor.member(server.owner)
                set_retention(server.rolegate.uow(), actor=owner, workspace_id=server.workspace_id, days=1)
                prune_events(server.rolegate.uow(), actor=owner, workspace_id=server.workspace_id, now=utcnow() + timedelta(days=2))
                latest = _revision(admin)
                assert rg.revision == held < latest
                rg._stream_once()  # what the follow thread does: 410 feed_resync, so the document again
                assert rg.revision == latest
        finally:
            admin.http.close()


def test_the_watch_survives_failures_and_still_enforces_the_bound(live: LiveServer) -> None:
    with Rolegate(live.url, live.decide_key, live.workspace_id, max_staleness=0.2) as rg:
        assert rg.fresh

        def fails() -> bool:
            raise RuntimeError("the server answered nonsense")

        rg.refresh = fails  # type: ignore[method-assign]  # every revalidation fails from now on
        deadline = time.monotonic() + 5
        while rg.fresh and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not rg.fresh  # past the bound without news: no local answers
        assert all(t.is_alive() for t in rg._threads)
        assert rg.check(live.owner, "accounts.view").allowed  # the remote API answers
        assert rg.remote_answers == 1
