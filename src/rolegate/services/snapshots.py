"""Compiled snapshots: the newest of each workspace, in a bounded LRU.

A snapshot is reused only while it is at the workspace's newest known revision: this
process's own commits and (on PostgreSQL) every other process's commits, heard through
LISTEN/NOTIFY, move the known revision forward. A caller that just wrote passes
`min_revision` (the revision its write returned) to read its own writes.

LISTEN is the accelerator, not the guarantee: a notification sent while the listener
was reconnecting is lost, and another process writing a SQLite file sends none. So
each snapshot remembers when the database last confirmed it (`confirmed_at`, on an
injectable monotonic clock); past `max_staleness` seconds it is revalidated before it
decides: one read of `workspaces.revision` per workspace per interval, whatever the
number of requests (one thread reads, the others wait for its answer), and a reload
only if the revision moved. `on_reconnect` (the listener calls it) revalidates them all.

When the database cannot be reached, the snapshot held keeps deciding (the outage is
retried once per interval, not per request) for at most `max_outage` seconds after it
was last confirmed; `unconfirmed_for` says how long, so responses can say so. Past
that, or without a snapshot, `StoreUnavailableError`.

With a streaming replica (`store.replica.Replica`), revision reads and loads go there
first, and to the primary when the replica cannot serve that read: it lacks the
revision needed (`min_revision`, or the newest known), it lags more than the
staleness bound, or it is unreachable. A snapshot the replica confirmed counts as
confirmed when the primary had that state (`lag` seconds earlier), so the staleness
bound holds whichever database answered.

A write of this process loads the snapshot of its own revision itself, after its
commit and before it answers (`expect`, then `committed`), when a snapshot of the
workspace is held: meanwhile decisions keep using the held snapshot (the write has not
answered yet, so no one can have been told of its revision) instead of each waiting
for a reload, and the write's caller reads its own write as before. The inputs it
compiles from are kept for the next write (`context.remember_inputs`), which then
reads and compiles less while it holds the workspace's lock.

Only the newest snapshot of a workspace is kept: an older one is never served again,
and holding it would only give the collector more to walk (full collections were the
p99 of decisions). A request that already holds an older snapshot finishes on it.

Metrics (`rolegate.metrics`): each lookup is a hit (served without the database) or
a miss (it went on to revalidate or load); each revalidation says what it found;
each compile is timed; the gauges follow the cached and the unconfirmed workspaces.
A hit costs one counter increment on a child bound at import.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial

from rolegate.domain.errors import NotFoundError, RevisionNotReachedError, StoreUnavailableError
from rolegate.engine import Snapshot, compile_snapshot
from rolegate.metrics import (
    SNAPSHOT_COMPILE_SECONDS,
    SNAPSHOT_EVICTIONS,
    SNAPSHOT_LOOKUPS,
    SNAPSHOT_REVALIDATIONS,
    SNAPSHOTS_CACHED,
    SNAPSHOTS_UNCONFIRMED,
)
from rolegate.services.context import (
    StateInputs,
    followed_inputs,
    remember_compiled,
    remember_inputs,
    remembered_at,
    workspace_schema,
)
from rolegate.services.record_cache import (
    DEFAULT_RECORD_CACHE_SIZE,
    CachedRecordIndex,
    RecordCache,
    catch_up,
    follow,
    new_record_cache,
)
from rolegate.store import Engine
from rolegate.store.availability import reachable, read_revision
from rolegate.store.record_index import SqlRecordIndex
from rolegate.store.replica import Replica, ReplicaRead
from rolegate.store.uow import UnitOfWork
from rolegate.throttled_log import ThrottledLog

__all__ = ["DEFAULT_MAX_OUTAGE", "DEFAULT_MAX_STALENESS", "SnapshotCache"]

DEFAULT_MAX_STALENESS = 1.0
"""Seconds a snapshot decides without asking the database (ROLEGATE_MAX_STALENESS_MS)."""
DEFAULT_MAX_OUTAGE = 300.0
"""Seconds a snapshot keeps deciding while the database is unreachable (ROLEGATE_MAX_OUTAGE_MS)."""

log = logging.getLogger(__name__)

_NEVER = float("-inf")

_HIT = SNAPSHOT_LOOKUPS.labels(result="hit")
_MISS = SNAPSHOT_LOOKUPS.labels(result="miss")
_REVALIDATED = {outcome: SNAPSHOT_REVALIDATIONS.labels(result=outcome) for outcome in ("current", "changed", "unreachable")}


class _Entry:
    """A cached snapshot and when the database last said it was current."""

    __slots__ = ("confirmed_at", "fresh_until", "retry_at", "snapshot")

    def __init__(self, snapshot: Snapshot, confirmed_at: float, max_staleness: float) -> None:
        self.snapshot = snapshot
        self.confirmed_at = confirmed_at
        self.fresh_until = confirmed_at + max_staleness
        """Served without asking the database until then; -inf: revalidate first."""
        self.retry_at = _NEVER
        """After a failed read: the database is not asked again before then."""


class SnapshotCache:
    def __init__(
        self,
        engine: Engine,
        *,
        maxsize: int = 256,
        max_staleness: float = DEFAULT_MAX_STALENESS,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        clock: Callable[[], float] = time.monotonic,
        read_revision: Callable[[str], int | None] | None = None,
        incidents: ThrottledLog | None = None,
        replica: Replica | None = None,
        compile_behind: bool = True,
        run_behind: Callable[[Callable[[], None]], object] | None = None,
        record_cache_size: int = DEFAULT_RECORD_CACHE_SIZE,
    ) -> None:
        if maxsize < 1:
            raise ValueError("the snapshot cache holds at least one workspace")
        if max_staleness < 0 or max_outage < 0:
            raise ValueError("the staleness and outage bounds are durations (seconds >= 0)")
        self._engine = engine
        self._maxsize = maxsize
        self._max_staleness = max_staleness
        self._max_outage = max_outage
        self._clock = clock
        self._read_revision = read_revision or partial(_read_revision, engine)
        self._replica = replica
        self._incidents = incidents or ThrottledLog(log)
        self._latest: OrderedDict[str, _Entry] = OrderedDict()
        self._known: dict[str, int] = {}
        self._flights: dict[str, threading.Lock] = {}
        self._unconfirmed: dict[str, float] = {}
        self._pending: dict[str, set[int]] = {}
        """Revisions this process is committing, per workspace: it loads them itself."""
        self._expected_at: dict[str, float] = {}
        """When this process last started a commit of the workspace (`expect`)."""
        self._lock = threading.Lock()
        self._watchers: list[Callable[[str | None], None]] = []
        self._compile_behind = compile_behind
        self._run_behind = run_behind
        self._behind: ThreadPoolExecutor | None = None
        self._catching_up: set[str] = set()
        """Workspaces whose newer revision a worker thread is compiling (`current`)."""
        self._record_cache_size = record_cache_size
        self._records: dict[str, RecordCache] = {}
        """Per workspace held: its records in memory (`services.record_cache`)."""
        self.degraded = False
        """True while some snapshot is served without the database's confirmation."""
        self.loads = 0
        self.reads = 0
        """Revision reads made to revalidate (one per workspace per interval at most)."""
        self.replica_reads = 0
        """Of `reads`, those the replica answered (the others went to the primary)."""
        self.replica_loads = 0
        """Of `loads`, those compiled from the replica."""

    @property
    def max_staleness(self) -> float:
        return self._max_staleness

    def __len__(self) -> int:
        return len(self._latest)

    def cached(self) -> dict[str, int]:
        """Workspace id -> revision of the snapshot held, least recently used first."""
        with self._lock:
            return {ws: entry.snapshot.revision for ws, entry in self._latest.items()}

    def expect(self, workspace_id: str, revision: int | None) -> None:
        """Just before a commit of this process makes `revision` (None: the commit
        failed, the revisions expected will not come): the listener's notice of it
        does not send decisions to reload; `committed` will."""
        with self._lock:
            if revision is None:
                self._pending.pop(workspace_id, None)
            elif workspace_id in self._latest:
                self._pending.setdefault(workspace_id, set()).add(revision)
                self._expected_at[workspace_id] = self._clock()  # before the commit: when it made `revision` is later

    def committed(self, workspace_id: str, revision: int) -> None:
        """After this process's commit made `revision`: load it now, in the writer's
        thread, if a snapshot of the workspace is held (a process that decides for it),
        then make it the newest known. Never raises: the write is committed; a failed
        load leaves the reload to the next decision, as before."""
        with self._lock:
            pending = self._pending.get(workspace_id)
            expected = pending is not None and revision in pending
        for watcher in self._watchers:
            watcher(workspace_id)  # committed: the change feed's streams need not wait for this load
        try:
            if expected and self._compile_written(workspace_id, revision) is None:
                self.get(workspace_id, min_revision=revision)
        except Exception as error:  # any failure: the next decision reloads instead
            log.debug("loading revision %s of %s after its commit failed: %r", revision, workspace_id, error)
        finally:
            with self._lock:
                pending = self._pending.get(workspace_id)
                if pending is not None:
                    pending.discard(revision)
                    if not pending:
                        del self._pending[workspace_id]
            self.mark(workspace_id, revision, notify=False)

    def _compile_written(self, workspace_id: str, revision: int) -> Snapshot | None:
        """The snapshot of `revision`, which this process's write just committed, from
        the inputs the write worked out (`context.record_change(state=...)`): no read,
        and only the roles the write changed compiled again (the held snapshot's others
        reused). None when the write did not say them: `get` loads it instead."""
        inputs = remembered_at(self._engine, workspace_id, revision)
        if inputs is None or inputs.features is None:
            return None
        entry = self._latest.get(workspace_id)
        started = time.perf_counter()
        if inputs.snapshot is not None:
            cached = inputs.snapshot
        else:
            # The record cache catches up to the write's revision too: the write may have
            # moved a record. From the events the write said when the cache stands just
            # before them (no read), else by reading the events it has not seen.
            store = SqlRecordIndex(self._engine, workspace_id, replica=None)
            held = self._records.get(workspace_id)
            records: CachedRecordIndex | SqlRecordIndex
            if held is not None and inputs.audit_head is not None and follow(held, revision, inputs.audit_head[0], inputs.changes, after=inputs.changes_after):
                records = CachedRecordIndex(held, store, revision=revision, live=True)
            else:
                with reachable(), UnitOfWork(self._engine, read_only=True) as uow:
                    records = self._record_index(uow, workspace_id, revision, store)
            cached = compile_snapshot(
                inputs.schema,
                features=inputs.features,
                roles=inputs.roles,
                members=inputs.members,
                records=records,
                revision=revision,
                previous=entry.snapshot if entry is not None else None,
            )
        remember_compiled(self._engine, workspace_id, replace(inputs, snapshot=cached))
        SNAPSHOT_COMPILE_SECONDS.observe(time.perf_counter() - started)
        return self._keep(workspace_id, cached, self._expected_at.get(workspace_id, self._clock()))

    def watch(self, callback: Callable[[str | None], None]) -> None:
        """Call `callback(workspace_id)` whenever a revision of the workspace is heard of
        (this process's commits, NOTIFY), and `callback(None)` after the listener
        reconnects (anything may have changed): the change feed's streams and the webhook
        sender wake on it."""
        self._watchers.append(callback)

    def mark(self, workspace_id: str, revision: int, *, notify: bool = True) -> None:
        """A commit made `revision` the newest; older snapshots are stale from now on
        (unless this process is loading it itself: `expect`). `notify`: tell the
        watchers (`committed` did already)."""
        if notify:
            for watcher in self._watchers:
                watcher(workspace_id)
        with self._lock:
            pending = self._pending.get(workspace_id)
            if pending is not None and revision in pending:
                return  # our own commit: `committed` loads it, decisions keep going meanwhile
            if revision > self._known.get(workspace_id, -1):
                self._known[workspace_id] = revision
                entry = self._latest.get(workspace_id)
                if entry is not None:
                    entry.retry_at = _NEVER  # someone reached the database just now: load at once, no back-off

    def on_reconnect(self) -> None:
        """Notifications may have been missed (the listener lost its connection): every
        snapshot is revalidated before it decides again, and at once, even one whose
        last read failed (the database is back)."""
        for watcher in self._watchers:
            watcher(None)
        with self._lock:
            for entry in self._latest.values():
                entry.fresh_until = _NEVER
                entry.retry_at = _NEVER

    def unconfirmed_for(self, workspace_id: str) -> float | None:
        """Seconds since the database last confirmed the snapshot being served, when
        it could not be asked since (an outage); None when it is confirmed."""
        since = self._unconfirmed.get(workspace_id)
        return None if since is None else max(0.0, self._clock() - since)

    def fresh(self, workspace_id: str, min_revision: int | None = None) -> Snapshot | None:
        """The held snapshot if it may decide now without asking the database, else
        None (then `get`). The hot path: two dict lookups and a clock read, no I/O."""
        entry = self._latest.get(workspace_id)
        if entry is None:
            return None
        snap = entry.snapshot
        if snap.revision < self._known.get(workspace_id, 0) or snap.revision < (min_revision or 0):
            return None
        if self._clock() >= entry.fresh_until:
            return None
        try:  # noqa: SIM105 (contextlib.suppress costs more than the check it guards)
            self._latest.move_to_end(workspace_id)
        except KeyError:  # evicted by another thread meanwhile; still valid to serve
            pass
        _HIT.inc()
        return snap

    def current(self, workspace_id: str, min_revision: int | None = None) -> Snapshot | None:
        """The decisions' hot path: `fresh`, except that a snapshot behind a newer
        revision heard of (another process's commit) keeps deciding while a worker
        thread compiles the newer one (`compile_behind`), for as long as the staleness
        bound allows: until `max_staleness` after the database last confirmed it, which
        was before that commit. A `min_revision` it lacks is never served (None: `get`
        waits for it). None also past the bound, or without a snapshot."""
        entry = self._latest.get(workspace_id)
        if entry is None:
            return None
        snap = entry.snapshot
        if snap.revision < (min_revision or 0) or self._clock() >= entry.fresh_until:
            return None
        if snap.revision < self._known.get(workspace_id, 0):
            if not self._compile_behind:
                return None
            self._catch_up(workspace_id)
        try:  # noqa: SIM105 (as in `fresh`)
            self._latest.move_to_end(workspace_id)
        except KeyError:
            pass
        _HIT.inc()
        return snap

    def _catch_up(self, workspace_id: str) -> None:
        """Compile the workspace's newest known revision in a worker thread, once at a
        time per workspace (requests that need it meanwhile share the flight)."""
        with self._lock:
            if workspace_id in self._catching_up:
                return
            self._catching_up.add(workspace_id)
            if self._run_behind is None and self._behind is None:
                self._behind = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rolegate-compile")
        job = partial(self._caught_up, workspace_id)
        try:
            if self._run_behind is not None:
                self._run_behind(job)
            else:
                assert self._behind is not None
                self._behind.submit(job)
        except RuntimeError:  # the executor is shut down (the process is closing)
            with self._lock:
                self._catching_up.discard(workspace_id)

    def _caught_up(self, workspace_id: str) -> None:
        try:
            self.get(workspace_id)
        except Exception as error:  # the next decision past the bound loads (and answers the error) itself
            log.debug("compiling the newest revision of %s failed: %r", workspace_id, error)
        finally:
            with self._lock:
                self._catching_up.discard(workspace_id)

    def get(self, workspace_id: str, *, min_revision: int | None = None) -> Snapshot:
        snap = self.fresh(workspace_id, min_revision)
        if snap is not None:
            return snap
        with self._flight(workspace_id):
            # Whoever held the flight may have revalidated or reloaded meanwhile.
            snap = self.fresh(workspace_id, min_revision)
            if snap is not None:
                return snap
            return self._refresh(workspace_id, min_revision)

    def _flight(self, workspace_id: str) -> threading.Lock:
        """One revalidation or load per workspace at a time: the others wait for its
        answer instead of asking the database too (no thundering herd)."""
        lock = self._flights.get(workspace_id)
        if lock is None:
            with self._lock:
                lock = self._flights.setdefault(workspace_id, threading.Lock())
        return lock

    def _refresh(self, workspace_id: str, min_revision: int | None) -> Snapshot:
        _MISS.inc()
        entry = self._latest.get(workspace_id)
        now = self._clock()
        wanted = min_revision or 0
        if entry is not None and entry.snapshot.revision >= wanted and now < entry.retry_at:
            return self._unconfirmed_snapshot(workspace_id, entry, now, None)  # asked less than an interval ago
        seen: ReplicaRead | None = None
        if entry is not None and entry.snapshot.revision >= max(self._known.get(workspace_id, 0), wanted):
            # Only the bound (or a reconnect) asks: is this still the workspace's revision?
            self.reads += 1
            seen = self._ask_replica(workspace_id, entry.snapshot.revision)
            if seen is not None:
                self.replica_reads += 1
                if seen.revision == entry.snapshot.revision:
                    _REVALIDATED["current"].inc()
                    self._confirm(workspace_id, entry, now - seen.lag)
                    return entry.snapshot
                _REVALIDATED["changed"].inc()
                assert seen.revision is not None  # _ask_replica: at least the snapshot's
                self.mark(workspace_id, seen.revision)
            else:
                try:
                    revision = self._read_revision(workspace_id)
                except StoreUnavailableError as error:
                    _REVALIDATED["unreachable"].inc()
                    return self._unconfirmed_snapshot(workspace_id, entry, now, error)
                if revision == entry.snapshot.revision:
                    _REVALIDATED["current"].inc()
                    self._confirm(workspace_id, entry, now)
                    return entry.snapshot
                _REVALIDATED["changed"].inc()
                if revision is not None:
                    self.mark(workspace_id, revision)
        try:
            return self._load(workspace_id, min_revision, seen)
        except StoreUnavailableError as error:
            if entry is None or entry.snapshot.revision < wanted:
                raise
            return self._unconfirmed_snapshot(workspace_id, entry, now, error)

    def _ask_replica(self, workspace_id: str, needed: int) -> ReplicaRead | None:
        """The replica's answer if it may serve a read that needs revision `needed`
        (see the module's docstring), else None: ask the primary."""
        if self._replica is None:
            return None
        seen = self._replica.read(workspace_id)
        if seen is None or seen.revision is None or seen.revision < needed or seen.lag > self._max_staleness:
            return None
        return seen

    def _confirm(self, workspace_id: str, entry: _Entry, now: float) -> None:
        with self._lock:
            entry.confirmed_at = now
            entry.fresh_until = now + self._max_staleness
            entry.retry_at = _NEVER
            self._recovered(workspace_id)

    def _recovered(self, workspace_id: str) -> None:
        """Under `_lock`: the workspace's snapshot is confirmed again."""
        if self._unconfirmed.pop(workspace_id, None) is not None:
            self.degraded = bool(self._unconfirmed)
            SNAPSHOTS_UNCONFIRMED.dec()
            self._incidents.recovered("snapshots_unconfirmed", "database reachable again: snapshots confirmed")

    def _unconfirmed_snapshot(self, workspace_id: str, entry: _Entry, now: float, error: StoreUnavailableError | None) -> Snapshot:
        """The database cannot be asked: keep deciding on the snapshot held, within the
        outage bound, and ask again one interval later (not on every request)."""
        unconfirmed = now - entry.confirmed_at
        if unconfirmed > self._max_outage:
            if error is None:
                error = StoreUnavailableError("unconfirmed", detail=f"the cached snapshot is {unconfirmed:.0f} s old, past the outage bound")
            raise error
        with self._lock:
            if error is not None:
                entry.retry_at = now + self._max_staleness
                entry.fresh_until = min(entry.retry_at, entry.confirmed_at + self._max_outage)
            if workspace_id not in self._unconfirmed:
                SNAPSHOTS_UNCONFIRMED.inc()
            self._unconfirmed[workspace_id] = entry.confirmed_at
            self.degraded = True
        if error is not None:
            self._incidents.warning(
                "snapshots_unconfirmed",
                f"database unreachable ({error.kind}): deciding from cached snapshots, each for at most {self._max_outage:g} s after it was last confirmed",
            )
        return entry.snapshot

    def _load(self, workspace_id: str, min_revision: int | None, seen: ReplicaRead | None = None) -> Snapshot:
        """Compile the workspace's snapshot: from the replica when it may serve the read
        (`seen`: it just said so), else from the primary."""
        needed = max(self._known.get(workspace_id, 0), min_revision or 0)
        if self._replica is not None:
            seen = seen or self._ask_replica(workspace_id, needed)
            if seen is not None:
                asked = self._clock()
                try:
                    cached = self._compile(workspace_id, self._replica.engine)
                except StoreUnavailableError as error:
                    self._replica.failed(error)
                    cached = None
                # None (the workspace is not there) or older: another replica answered
                # behind the same address (a load balancer); the primary decides.
                if cached is not None and cached.revision >= needed:
                    return self._keep(workspace_id, cached, asked - seen.lag)
        asked = self._clock()  # the revision is read at the start: a commit after it is not in the snapshot
        with reachable():
            cached = self._compile(workspace_id, self._engine)
        if cached is None:
            self._forget(workspace_id)
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
        if min_revision is not None and cached.revision < min_revision:
            raise RevisionNotReachedError(workspace_id, cached.revision, min_revision)
        return self._keep(workspace_id, cached, asked)

    def _compile(self, workspace_id: str, engine: Engine) -> Snapshot | None:
        """The workspace's snapshot as `engine` has it; None: no such workspace there."""
        with reachable(), UnitOfWork(engine, read_only=True) as uow:
            ws = uow.workspaces.get(workspace_id)
            if ws is None:
                return None
            current = self._latest.get(ws.id)
            if current is not None and current.snapshot.revision == ws.revision:
                return current.snapshot  # another process's write was undone, or a reconnect found nothing new
            started = time.perf_counter()
            # This process's write made the revision and said its inputs; or another
            # process's write, followed from the inputs held before it (its audit events).
            said = remembered_at(self._engine, ws.id, ws.revision) or followed_inputs(uow, ws, self._engine)
            if said is not None and said.preset == ws.preset and said.schema.version == ws.schema_version and said.features in (None, ws.features):
                roles, members, schema, created = said.roles, said.members, said.schema, said.role_created
            else:
                infos = uow.roles.all(ws.id)
                roles = tuple(info.role for info in infos)
                created = {info.role.id: info.created_at for info in infos}
                members = tuple(uow.members.members(ws.id))
                schema = workspace_schema(uow, ws)
            # Records are read live, where the snapshot came from: a replica has at least
            # its revision (replay only moves forward); the primary while it cannot be reached.
            replica = self._replica if engine is not self._engine else None
            cached = compile_snapshot(
                schema,
                features=ws.features,
                roles=roles,
                members=members,
                records=self._record_index(uow, ws.id, ws.revision, SqlRecordIndex(self._engine, ws.id, replica=replica)),
                revision=ws.revision,
                # Roles unchanged since the snapshot held are reused (the same schema object
                # and features only): another process's write compiles one role here too.
                previous=current.snapshot if current is not None else None,
            )
            # The next write of this process starts from these inputs (same revision: the
            # same rows, whichever database they were read from).
            remember_inputs(self._engine, ws, StateInputs(ws.revision, ws.preset, schema, roles, members, cached, role_created=created))
            SNAPSHOT_COMPILE_SECONDS.observe(time.perf_counter() - started)
            self.loads += 1
            if replica is not None:
                self.replica_loads += 1
            return cached

    def _record_index(self, uow: UnitOfWork, workspace_id: str, revision: int, store: SqlRecordIndex) -> CachedRecordIndex | SqlRecordIndex:
        """The snapshot's record index: the workspace's record cache, caught up to
        `revision` before the snapshot can decide, in front of `store`."""
        if self._record_cache_size <= 0:
            return store
        records = self._records.get(workspace_id)
        if records is None:
            records = new_record_cache(uow.changes, workspace_id, revision, self._record_cache_size)
            with self._lock:
                records = self._records.setdefault(workspace_id, records)
        catch_up(records, uow.changes, workspace_id, revision)
        return CachedRecordIndex(records, store, revision=revision, live=not store.reads_replica)

    def records_held(self, workspace_id: str) -> int:
        """Records of the workspace held in memory (at most the record cache size)."""
        records = self._records.get(workspace_id)
        return 0 if records is None else len(records)

    def _drop_records(self, workspace_id: str) -> None:
        """Under `_lock`: the workspace's snapshot is gone, and its records with it."""
        records = self._records.pop(workspace_id, None)
        if records is not None:
            records.drop()

    def _keep(self, workspace_id: str, cached: Snapshot, confirmed_at: float) -> Snapshot:
        """Hold `cached` as the workspace's newest snapshot, confirmed at `confirmed_at`."""
        with self._lock:
            current = self._latest.get(workspace_id)
            if current is None or cached.revision >= current.snapshot.revision:
                if current is None:
                    SNAPSHOTS_CACHED.inc()
                self._latest[workspace_id] = _Entry(cached, confirmed_at, self._max_staleness)
                self._recovered(workspace_id)
            self._latest.move_to_end(workspace_id)
            while len(self._latest) > self._maxsize:
                evicted, _ = self._latest.popitem(last=False)
                SNAPSHOTS_CACHED.dec()
                SNAPSHOT_EVICTIONS.inc()
                self._flights.pop(evicted, None)
                self._drop_records(evicted)
                if self._unconfirmed.pop(evicted, None) is not None:
                    SNAPSHOTS_UNCONFIRMED.dec()
                self.degraded = bool(self._unconfirmed)
            if cached.revision > self._known.get(workspace_id, -1):
                self._known[workspace_id] = cached.revision
        return cached

    def clear(self) -> None:
        """Drop every snapshot (the process's Rolegate closes): the gauges say so."""
        with self._lock:
            SNAPSHOTS_CACHED.dec(len(self._latest))
            SNAPSHOTS_UNCONFIRMED.dec(len(self._unconfirmed))
            self._latest.clear()
            self._unconfirmed.clear()
            self._flights.clear()
            for workspace_id in list(self._records):
                self._drop_records(workspace_id)
            self.degraded = False
            behind, self._behind = self._behind, None
        if behind is not None:
            behind.shutdown(wait=False, cancel_futures=True)

    def _forget(self, workspace_id: str) -> None:
        """The workspace is gone: its snapshot must not decide again."""
        with self._lock:
            if self._latest.pop(workspace_id, None) is not None:
                SNAPSHOTS_CACHED.dec()
            self._drop_records(workspace_id)
            if self._unconfirmed.pop(workspace_id, None) is not None:
                SNAPSHOTS_UNCONFIRMED.dec()
            self.degraded = bool(self._unconfirmed)


def _read_revision(engine: Engine, workspace_id: str) -> int | None:
    return read_revision(engine, workspace_id)
