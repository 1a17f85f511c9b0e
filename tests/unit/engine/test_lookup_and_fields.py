"""lookup returns storage-neutral filters that agree with check; field access per role."""

from __future__ import annotations

import pytest

from rolegate.domain.errors import InvalidRecordError
from rolegate.domain.schema import FieldAccess
from rolegate.engine import InMemoryRecordIndex, RecordRef, Snapshot


def test_lookup_own_and_unassigned_is_one_assignee_term(snap: Snapshot) -> None:
    f = snap.lookup("ann", "accounts.view", "account")
    assert f.to_json() == {
        "object": "account",
        "filter": {"op": "assignee", "path": [], "member": "ann", "include": ["assigned", "unassigned"]},
    }


def test_lookup_child_filters_through_the_parent(snap: Snapshot) -> None:
    f = snap.lookup("ann", "comments.view", "comment")
    body = f.to_json()["filter"]
    assert body == {"op": "assignee", "path": ["task", "account"], "member": "ann", "include": ["assigned", "unassigned"]}


def test_lookup_all_and_nothing(snap: Snapshot) -> None:
    assert snap.lookup("max", "accounts.view", "account").is_all
    assert snap.lookup("max", "accounts.view", "account").to_json()["filter"] == {"op": "all"}
    assert snap.lookup("nil", "accounts.view", "account").to_json()["filter"] == {"op": "none"}


def test_lookup_agrees_with_check_on_every_record(snap: Snapshot, records: InMemoryRecordIndex) -> None:
    for member in ("ann", "bob", "max", "vic", "nil", "ivy"):
        for action, otype in (("accounts.view", "account"), ("accounts.update", "account"), ("tasks.view", "task"), ("comments.view", "comment")):
            f = snap.lookup(member, action, otype)
            for rec in records:
                if rec.type == otype:
                    assert f.matches(records, rec.ref) == snap.check(member, action, rec.ref).allowed, (member, action, rec)


def test_lookup_action_must_be_on_the_object(snap: Snapshot) -> None:
    with pytest.raises(InvalidRecordError):
        snap.lookup("ann", "accounts.view", "task")


def test_lookup_matches_nothing_for_unknown_record(snap: Snapshot, records: InMemoryRecordIndex) -> None:
    assert not snap.lookup("max", "accounts.view", "account").matches(records, RecordRef("account", "nope"))


def test_field_access_explicit_default_and_level_clamp(snap: Snapshot) -> None:
    # viewer level: field ceiling read, so an explicit write is read.
    assert snap.field_access("vic", "account", "arr") is FieldAccess.READ
    assert snap.field_access("vic", "account", "notes") is FieldAccess.READ
    # a field the role does not mention: the level's new_field_access (none for viewer).
    assert snap.field_access("vic", "account", "contract_value") is FieldAccess.NONE
    # default field: always readable.
    assert snap.field_access("vic", "account", "name") is FieldAccess.READ
    assert snap.field_access("eve", "account", "arr") is FieldAccess.WRITE
    # synced field capped by the integration.
    assert snap.field_access("eve", "account", "contract_value") is FieldAccess.READ


def test_high_level_gets_new_fields(snap: Snapshot) -> None:
    assert snap.field_access("max", "account", "notes") is FieldAccess.WRITE


def test_filter_fields_drops_unreadable_and_undeclared(snap: Snapshot) -> None:
    record = {"name": "Acme", "arr": 10, "contract_value": 99, "notes": "x", "secret": 1}
    assert snap.filter_fields("vic", "account", record) == {"name": "Acme", "arr": 10, "notes": "x"}
    assert snap.filter_fields("ivy", "account", record) == {}


def test_readable_and_writable_fields(snap: Snapshot) -> None:
    assert snap.writable_fields("eve", "account") == frozenset({"arr"})
    assert snap.readable_fields("eve", "account") == frozenset({"name", "arr", "contract_value"})
    assert snap.writable_fields("vic", "account") == frozenset()


def test_unknown_object_type_is_an_error(snap: Snapshot) -> None:
    with pytest.raises(InvalidRecordError, match="Did you mean 'account'"):
        snap.readable_fields("ann", "acount")
