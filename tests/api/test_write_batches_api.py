"""The API's frequent admin writes (role edit, member role change, record upsert and
assignment) may share a transaction with the workspace's other queued writes
(`store.write_batches`, issue 18); a write whose batch failed answers 503 with
Retry-After and words that say it was not made."""

from __future__ import annotations

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.store.write_batches import BatchFailedError, WriteGate
from tests.api.conftest import Tenant, assert_problem, invite


def test_the_frequent_admin_writes_ask_for_their_workspaces_gate(rolegate: Rolegate, natero: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    member = invite(natero, "cat@acme.test", "guest")
    asked: list[str] = []
    batches = rolegate.write_batches
    assert batches is not None

    def gate(workspace_id: str) -> WriteGate | None:
        asked.append(workspace_id)
        return None

    monkeypatch.setattr(batches, "gate", gate)
    assert natero.api.patch(natero.url("/roles/guest"), json={"description": "Guests"}).status_code == 200
    assert natero.api.patch(natero.url(f"/members/{member}"), json={"role": "executive"}).status_code == 200
    assert natero.api.put(natero.url("/records/account/acme"), json={"assignee": None}).status_code == 200
    assert natero.api.put(natero.url("/records/account/acme/assignee"), json={"assignee": None}).status_code == 200
    assert asked == [natero.id] * 4
    # A write that is not one of them keeps its own transaction.
    assert natero.api.post(natero.url("/members"), json={"email": "dan@acme.test", "role": "guest"}).status_code == 201
    assert asked == [natero.id] * 4


def test_a_write_whose_batch_failed_answers_503_and_says_to_send_it_again(natero: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    member = invite(natero, "cat@acme.test", "guest")

    def failed(*args: object, **kwargs: object) -> object:
        raise BatchFailedError

    monkeypatch.setattr("rolegate.api.routes.members.change_member_role", failed)
    r = natero.api.patch(natero.url(f"/members/{member}"), json={"role": "executive"})
    body = assert_problem(r, 503, "unavailable")
    assert r.headers["Retry-After"] == "1"
    assert "not made" in body["detail"]
    assert "Send the change again" in str(body)
