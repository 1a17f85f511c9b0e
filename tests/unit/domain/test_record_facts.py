"""Which records a committed change may have changed (`domain.record_facts`): what a
record cache forgets when it catches up."""

from __future__ import annotations

import pytest

from rolegate.domain.record_facts import EVERY_RECORD, NO_RECORD_ACTIONS, ONE_RECORD_ACTIONS, record_effect


@pytest.mark.parametrize("action", ["record.upsert", "record.assign"])
def test_a_single_upsert_or_assignment_changes_only_the_record_it_names(action: str) -> None:
    assert record_effect(action, "account", "acme") == ("account", "acme")


@pytest.mark.parametrize("action", ["record.delete", "records.upsert", "records.delete", "member.transfer"])
def test_a_delete_a_bulk_write_or_a_transfer_may_change_any_record(action: str) -> None:
    """A delete takes or orphans the children (C7), which its event does not name; a bulk
    call's event is a summary; a transfer moves every record of a member (N9)."""
    assert record_effect(action, "account", "acme") == EVERY_RECORD


@pytest.mark.parametrize("action", ["role.update", "member.change_role", "member.disable", "workspace.features", "audit.prune"])
def test_changes_of_roles_members_and_settings_change_no_record(action: str) -> None:
    assert record_effect(action, "member", "m1") is None


def test_an_action_it_does_not_know_may_change_any_record() -> None:
    """A new kind of write costs the cache its contents until listed, never a stale answer."""
    assert record_effect("records.import", "records", "bulk") == EVERY_RECORD
    assert not NO_RECORD_ACTIONS & ONE_RECORD_ACTIONS
