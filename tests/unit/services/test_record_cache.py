"""The record cache (`services.record_cache`): bounded, least recently used first; a read
that raced a change is not kept; catching up forgets what the audit events since its
last one may have changed, and everything when they cannot all be read (too many, or
pruned: seq has no holes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from rolegate.domain.changes import Change
from rolegate.engine import Record, RecordRef
from rolegate.services import record_cache
from rolegate.services.record_cache import CachedRecordIndex, RecordCache, catch_up
from rolegate.store.repositories_changes import ChangeRepository

WS = "ws"


class Store:
    """The database's index: a dict, each read counted."""

    def __init__(self, records: Sequence[Record]) -> None:
        self.records = {r.ref: r for r in records}
        self.reads = 0

    def get(self, ref: RecordRef) -> Record | None:
        return self.records.get(ref)

    def lineage(self, ref: RecordRef, depth: int) -> list[Record | None]:
        self.reads += 1
        found = self.records.get(ref)
        if found is None:
            return [None]
        chain: list[Record | None] = [found]
        while len(chain) <= depth and found is not None and found.parent is not None:
            found = self.records.get(found.parent)
            if found is None:
                break
            chain.append(found)
        return chain


class Events:
    """The audit log's reads that `catch_up` makes."""

    def __init__(self, events: Sequence[tuple[int, int, str, str, str]]) -> None:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        self.events = [Change(WS, rev, seq, f"e{seq}", action, ttype, tid, "test", at) for seq, rev, action, ttype, tid in events]

    def after_seq(self, workspace_id: str, after_seq: int, *, through_revision: int, limit: int) -> list[Change]:
        return [e for e in self.events if e.seq > after_seq and e.revision <= through_revision][:limit]

    def last_seq_through(self, workspace_id: str, revision: int) -> int:
        return max((e.seq for e in self.events if e.revision <= revision), default=0)


def _changes(events: Events) -> ChangeRepository:
    return cast(ChangeRepository, events)


ACME = Record("account", "acme", None, "m1")
TASK = Record("task", "t1", RecordRef("account", "acme"), None)
OTHER = Record("account", "other", None, "m2")


def _index(cache: RecordCache, store: Store, *, revision: int = 1, live: bool = True) -> CachedRecordIndex:
    return CachedRecordIndex(cache, cast(Any, store), revision=revision, live=live)


def test_a_lineage_is_read_once_then_answered_from_memory() -> None:
    store, cache = Store([ACME, TASK]), RecordCache(10, 1, 1)
    index = _index(cache, store)
    assert index.lineage_in_memory(TASK.ref, 1) is None
    assert list(index.lineage(TASK.ref, 1)) == [TASK, ACME]
    assert index.lineage_in_memory(TASK.ref, 1) == [TASK, ACME]
    assert index.lineage_in_memory(ACME.ref, 0) == [ACME]
    assert list(index.lineage(TASK.ref, 1)) == [TASK, ACME]
    assert store.reads == 1


def test_a_record_not_in_the_index_is_remembered_as_absent_and_so_is_a_missing_parent() -> None:
    orphan = Record("task", "t2", RecordRef("account", "gone"), None)
    store, cache = Store([orphan]), RecordCache(10, 1, 1)
    index = _index(cache, store)
    assert list(index.lineage(RecordRef("account", "ghost"), 0)) == [None]
    assert list(index.lineage(orphan.ref, 1)) == [orphan]
    assert index.lineage_in_memory(RecordRef("account", "ghost"), 0) == [None]
    assert index.lineage_in_memory(orphan.ref, 1) == [orphan, None]
    assert store.reads == 2


def test_bounded_least_recently_used_first() -> None:
    records = [Record("account", f"a{i}", None, None) for i in range(10)]
    store, cache = Store(records), RecordCache(3, 1, 1)
    index = _index(cache, store)
    for r in records[:3]:
        index.lineage(r.ref, 0)
    index.lineage_in_memory(records[0].ref, 0)  # a0 used: a1 is the least recently used
    for r in records[3:]:
        index.lineage(r.ref, 0)
        assert len(cache) <= 3
    assert len(cache) == 3
    assert [index.lineage_in_memory(r.ref, 0) is not None for r in records[-3:]] == [True] * 3


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    cache = RecordCache(10, 1, 1)

    class Racing(Store):
        def lineage(self, ref: RecordRef, depth: int) -> list[Record | None]:
            chain = super().lineage(ref, depth)  # what the database said before the write
            cache.forget({("account", "acme")}, 2, 2)  # the write's catch-up meanwhile
            return chain

    index = _index(cache, Racing([ACME]))
    assert list(index.lineage(ACME.ref, 0)) == [ACME]  # answered (a live read's answer)...
    assert index.lineage_in_memory(ACME.ref, 0) is None  # ...but not kept


def test_a_replicas_read_is_kept_only_while_the_cache_has_nothing_newer() -> None:
    store, cache = Store([ACME]), RecordCache(10, 5, 5)
    _index(cache, store, revision=4, live=False).lineage(ACME.ref, 0)  # a snapshot older than the cache
    assert cache.lineage(ACME.ref, 0) is None
    _index(cache, store, revision=5, live=False).lineage(ACME.ref, 0)
    assert cache.lineage(ACME.ref, 0) == [ACME]


def _held(cache: RecordCache, store: Store, *records: Record) -> None:
    for r in records:
        _index(cache, store).lineage(r.ref, 0)


def test_catching_up_forgets_the_records_the_changes_name_and_keeps_the_others() -> None:
    events = Events([(1, 1, "workspace.create", "workspace", WS), (2, 2, "record.assign", "account", "acme"), (3, 3, "role.update", "role", "r")])
    store, cache = Store([ACME, OTHER]), RecordCache(10, 1, 1)
    _held(cache, store, ACME, OTHER)
    catch_up(cache, _changes(events), WS, 3)
    assert (cache.lineage(ACME.ref, 0), cache.lineage(OTHER.ref, 0)) == (None, [OTHER])
    assert (cache.revision, cache.last_seq) == (3, 3)


@pytest.mark.parametrize(
    "later",
    [
        [(2, 2, "record.delete", "account", "zzz")],  # children not named
        [(2, 2, "records.upsert", "records", "bulk")],
        [(3, 2, "role.update", "role", "r")],  # seq 2 pruned
        [],  # the revision moved, its events are gone
    ],
    ids=["delete", "bulk", "pruned", "none-left"],
)
def test_catching_up_forgets_everything_when_it_cannot_tell(later: list[tuple[int, int, str, str, str]]) -> None:
    events = Events([(1, 1, "workspace.create", "workspace", WS), *later])
    store, cache = Store([ACME, OTHER]), RecordCache(10, 1, 1)
    _held(cache, store, ACME, OTHER)
    catch_up(cache, _changes(events), WS, 2)
    assert len(cache) == 0
    assert cache.revision == 2


def test_catching_up_past_too_many_events_forgets_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record_cache, "CATCH_UP_EVENTS", 3)
    events = Events([(1, 1, "workspace.create", "workspace", WS), *[(k, k, "role.update", "role", "r") for k in range(2, 6)]])
    store, cache = Store([ACME]), RecordCache(10, 1, 1)
    _held(cache, store, ACME)
    catch_up(cache, _changes(events), WS, 5)
    assert (len(cache), cache.revision, cache.last_seq) == (0, 5, 5)


def test_an_older_revision_changes_nothing() -> None:
    events = Events([(1, 1, "workspace.create", "workspace", WS), (2, 2, "record.assign", "account", "acme")])
    store, cache = Store([ACME]), RecordCache(10, 2, 2)
    _held(cache, store, ACME)
    catch_up(cache, _changes(events), WS, 1)  # a lagging replica's snapshot
    assert cache.lineage(ACME.ref, 0) == [ACME]
    assert cache.revision == 2


def test_follow_applies_the_events_a_write_said_when_they_come_next_and_reads_nothing() -> None:
    """`follow`: a write of this process says the events that made its revision; the
    cache forgets what they name without reading them, only when it stands just before."""
    cache = RecordCache(10, 1, 1)
    index = _index(cache, Store([ACME, OTHER]))
    index.lineage(ACME.ref, 0)
    index.lineage(OTHER.ref, 0)
    generation = cache.generation
    assert record_cache.follow(cache, 2, 2, [("record.assign", "account", "acme")])
    assert (cache.revision, cache.last_seq) == (2, 2)
    assert cache.generation == generation + 1
    assert index.lineage_in_memory(ACME.ref, 0) is None
    assert index.lineage_in_memory(OTHER.ref, 0) == [OTHER]
    assert record_cache.follow(cache, 3, 3, [("member.change_role", "member", "m1")])  # names no record
    assert index.lineage_in_memory(OTHER.ref, 0) == [OTHER]
    assert cache.generation == generation + 1  # nothing forgotten: reads in flight stay good
    # two events for one revision (a bulk write), one of which may change any record
    assert record_cache.follow(cache, 4, 5, [("record.upsert", "account", "x"), ("record.delete", "account", "other")])
    assert len(cache) == 0
    assert (cache.revision, cache.last_seq) == (4, 5)


@pytest.mark.parametrize(
    ("revision", "last_seq", "changes"),
    [
        (3, 3, [("record.assign", "account", "acme")]),  # a revision skipped: another write's
        (1, 2, [("record.assign", "account", "acme")]),  # not newer
        (2, 3, [("record.assign", "account", "acme")]),  # an event between (another process's)
        (2, 2, []),  # nothing said
    ],
)
def test_follow_changes_nothing_unless_the_events_come_right_after_the_cache(revision: int, last_seq: int, changes: list[tuple[str, str, str]]) -> None:
    cache = RecordCache(10, 1, 1)
    index = _index(cache, Store([ACME]))
    index.lineage(ACME.ref, 0)
    assert not record_cache.follow(cache, revision, last_seq, changes)
    assert (cache.revision, cache.last_seq, len(cache)) == (1, 1, 1)
