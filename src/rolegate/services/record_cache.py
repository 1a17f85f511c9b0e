"""Records in memory for record checks: one cache per workspace, kept beside its
compiled snapshot and shared by its successive snapshots.

A record check needs the record and the parents its rule climbs (C7). Read from the
database on every check, that is a round trip and a hop to a worker thread per
request; held here, a check whose records are all in memory is answered on the event
loop (`Snapshot.check_in_memory`), and one that misses reads them in the thread pool
as before (`CachedRecordIndex.lineage`) and keeps them for the next check.

Never older than the revision decided at: a record's facts change only in writes that
bump the revision and append audit events in the same transaction. Before a snapshot
of a newer revision is kept (`SnapshotCache`), `catch_up` reads the events since the
cache's last one and forgets what they may have changed (`domain.record_facts`): the
record an upsert or an assignment names, or everything. A decision at revision r so
reads facts at least as new as r, as a live read did; `min_revision` and the staleness
bound are the snapshot cache's, unchanged. When the events cannot be read completely
(too many, or some pruned) the cache forgets everything.

A read that raced a change is not kept: each forgetting moves the cache's
`generation`, and a read keeps its records only if the generation it started at is
still the cache's. A snapshot loaded from a streaming replica reads its records there
(at least its own revision); those are kept only while the cache has applied no newer
revision than the snapshot's.

Bounded: at most `maxsize` records per workspace, least recently used dropped first;
the snapshot cache drops a workspace's records with its snapshot.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Final

from rolegate.domain.record_facts import EVERY_RECORD, record_effect
from rolegate.engine.records import LineageIndex, Record, RecordRef
from rolegate.metrics import RECORD_CACHE_INVALIDATIONS, RECORD_CACHE_LOOKUPS, RECORDS_CACHED
from rolegate.store.repositories_changes import ChangeRepository

__all__ = ["CATCH_UP_EVENTS", "DEFAULT_RECORD_CACHE_SIZE", "CachedRecordIndex", "RecordCache", "catch_up", "follow", "new_record_cache"]

DEFAULT_RECORD_CACHE_SIZE: Final = 10_000
"""Records held per workspace (ROLEGATE_RECORD_CACHE_SIZE; 0: none, every check reads)."""
CATCH_UP_EVENTS: Final = 1_000
"""Events read to catch up; more (a bulk write) and the cache forgets everything."""

_HIT: Final = RECORD_CACHE_LOOKUPS.labels(result="hit")
_MISS: Final = RECORD_CACHE_LOOKUPS.labels(result="miss")
_FORGOT_SOME: Final = RECORD_CACHE_INVALIDATIONS.labels(scope="record")
_FORGOT_ALL: Final = RECORD_CACHE_INVALIDATIONS.labels(scope="all")


class RecordCache:
    """One workspace's records, `(type, id)` -> the record, or None for one known not to
    be in the index. Lookups take no lock (the event loop reads it); changes do."""

    __slots__ = ("_held", "_lock", "_maxsize", "generation", "last_seq", "revision")

    def __init__(self, maxsize: int, revision: int, last_seq: int) -> None:
        self._maxsize = maxsize
        self._held: OrderedDict[tuple[str, str], Record | None] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0
        """Moved by each forgetting: a read started before it is not kept."""
        self.revision = revision
        """Facts held are valid at this revision (and later, until forgotten)."""
        self.last_seq = last_seq
        """The workspace's last audit event applied (the one `catch_up` reads after)."""

    def __len__(self) -> int:
        return len(self._held)

    def lineage(self, ref: tuple[str, str], depth: int) -> list[Record | None] | None:
        """The record and its parents up to `depth` steps (as `LineageIndex.lineage`)
        when all of them are held, else None. No I/O, no lock."""
        held = self._held
        chain: list[Record | None] = []
        key: tuple[str, str] = ref
        for _ in range(depth + 1):
            try:
                record = held[key]
            except KeyError:
                return None
            try:  # noqa: SIM105 (contextlib.suppress costs more than the check it guards)
                held.move_to_end(key)
            except KeyError:  # dropped by another thread meanwhile: what was read still holds
                pass
            chain.append(record)
            if record is None or record.parent is None:
                break
            key = record.parent
        _HIT.inc()
        return chain

    def started(self) -> tuple[int, int]:
        """(generation, revision) before a read: what `keep` checks against."""
        with self._lock:
            return self.generation, self.revision

    def keep(self, ref: tuple[str, str], depth: int, chain: Sequence[Record | None], generation: int) -> None:
        """Hold the records of a lineage read from the database (as `LineageIndex.lineage`
        returns it), unless the cache forgot something since the read began."""
        with self._lock:
            if generation != self.generation:
                return
            key: tuple[str, str] = ref
            for record in chain:
                self._put(key, record)
                if record is None or record.parent is None:
                    return
                key = record.parent
            if len(chain) < depth + 1:
                self._put(key, None)  # the chain broke: the parent named is not in the index

    def _put(self, key: tuple[str, str], record: Record | None) -> None:
        held = self._held
        if key not in held:
            RECORDS_CACHED.inc()
        held[(sys.intern(key[0]), key[1])] = record  # a workspace has a few types: one string each, not one per record
        held.move_to_end(key)
        while len(held) > self._maxsize:
            held.popitem(last=False)
            RECORDS_CACHED.dec()

    def forget(self, refs: set[tuple[str, str]] | None, revision: int, last_seq: int) -> None:
        """Forget `refs` (None: every record) and move to `revision`."""
        with self._lock:
            self._forget_locked(refs, revision, last_seq)

    def _forget_locked(self, refs: set[tuple[str, str]] | None, revision: int, last_seq: int) -> None:
        held = self._held
        if refs is None:
            RECORDS_CACHED.dec(len(held))
            held.clear()
        else:
            for ref in refs:
                if held.pop(ref, False) is not False:
                    RECORDS_CACHED.dec()
        if refs is None or refs:
            self.generation += 1
        self.revision = max(self.revision, revision)
        self.last_seq = last_seq

    def follow(
        self, revision: int, first_seq: int, last_seq: int, refs: set[tuple[str, str]] | None, *, after: int | None = None
    ) -> bool:
        """Forget `refs` (None: every record) for the audit events `first_seq` to
        `last_seq` that made the revisions after `after` (the one before `revision`
        unless said) up to `revision`, known without reading them: only when the cache
        stands at `after` and those events come next (True). Else nothing changes (False)."""
        with self._lock:
            if self.revision != (revision - 1 if after is None else after) or first_seq != self.last_seq + 1:
                return False
            self._forget_locked(refs, revision, last_seq)
        return True

    def drop(self) -> None:
        """Forget everything: the workspace's snapshot left the snapshot cache."""
        self.forget(None, self.revision, self.last_seq)


def new_record_cache(changes: ChangeRepository, workspace_id: str, revision: int, maxsize: int) -> RecordCache:
    """An empty cache at `revision`, reading the events after that revision's last."""
    return RecordCache(maxsize, revision, changes.last_seq_through(workspace_id, revision))


def catch_up(cache: RecordCache, changes: ChangeRepository, workspace_id: str, revision: int) -> None:
    """Forget what the changes after the cache's revision, up to `revision`, may have
    changed among the records (before a snapshot of `revision` decides)."""
    if revision <= cache.revision:
        return  # an older snapshot (a lagging replica): the facts held are newer, as a live read's
    events = changes.after_seq(workspace_id, cache.last_seq, through_revision=revision, limit=CATCH_UP_EVENTS)
    complete = 0 < len(events) < CATCH_UP_EVENTS and events[0].seq == cache.last_seq + 1 and events[-1].revision == revision
    if not complete:  # too many, or pruned (seq has no holes): forget everything
        _FORGOT_ALL.inc()
        cache.forget(None, revision, changes.last_seq_through(workspace_id, revision))
        return
    refs: set[tuple[str, str]] = set()
    for event in events:
        effect = record_effect(event.action, event.target_type, event.target_id)
        if effect == EVERY_RECORD:
            _FORGOT_ALL.inc()
            cache.forget(None, revision, events[-1].seq)
            return
        if isinstance(effect, tuple):
            refs.add(effect)
    if refs:
        _FORGOT_SOME.inc()
    cache.forget(refs, revision, events[-1].seq)


def follow(cache: RecordCache, revision: int, last_seq: int, changes: Sequence[tuple[str, str, str]], *, after: int | None = None) -> bool:
    """`catch_up` without a read, from the (action, target type, target id) of the audit
    events that made `revision`, ending at `last_seq`, as this process's write that
    made it says them; `after`: the events made every revision after it (a batch's
    writes, `StateInputs.changes_after`). False (nothing done) unless the cache stands
    at the revision just before them: then `catch_up` reads them."""
    if not changes:
        return False
    effects = [record_effect(action, target_type, target_id) for action, target_type, target_id in changes]
    refs = None if EVERY_RECORD in effects else {e for e in effects if isinstance(e, tuple)}
    if not cache.follow(revision, last_seq - len(changes) + 1, last_seq, refs, after=after):
        return False
    if refs is None or refs:
        (_FORGOT_ALL if refs is None else _FORGOT_SOME).inc()
    return True


class CachedRecordIndex:
    """A snapshot's record index: the workspace's `RecordCache` in front of the
    database's index (`store`). `live`: `store` reads the primary (facts at least as
    new as any the cache applied); else its reads (a replica's, at least `revision`)
    are kept only while the cache has applied nothing newer than `revision`."""

    __slots__ = ("_cache", "_live", "_revision", "_store")

    def __init__(self, cache: RecordCache, store: LineageIndex, *, revision: int, live: bool) -> None:
        self._cache = cache
        self._store = store
        self._revision = revision
        self._live = live

    def lineage_in_memory(self, ref: RecordRef, depth: int) -> list[Record | None] | None:
        return self._cache.lineage(ref, depth)

    def lineage(self, ref: RecordRef, depth: int) -> Sequence[Record | None]:
        held = self._cache.lineage(ref, depth)
        if held is not None:
            return held
        generation, applied = self._cache.started()
        chain = self._store.lineage(ref, depth)
        _MISS.inc()
        if self._live or self._revision >= applied:
            self._cache.keep(ref, depth, chain, generation)
        return chain

    def get(self, ref: RecordRef) -> Record | None:
        return self.lineage(ref, 0)[0]
