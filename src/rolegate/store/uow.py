"""The unit of work: one transaction, rolled back unless committed; callbacks run
only after the commit (notifications, emails).

A unit of work made with `read_only=True` only reads (snapshot loads, lists, the
checks before a write): on SQLite it begins a deferred transaction, so it never takes
the write lock nor waits for a writer; it cannot commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, Engine, Executable, text

from rolegate.domain.workspace import Workspace
from rolegate.store import write_batches
from rolegate.store.database import read_only as read_only_connection
from rolegate.store.database import transaction_pooled
from rolegate.store.repositories import (
    ApiKeyRepository,
    AuditRepository,
    MemberRepository,
    RecordRepository,
    RoleRepository,
    UserRepository,
    WorkspaceRepository,
    advancing_statement,
)
from rolegate.store.repositories_changes import ChangeRepository
from rolegate.store.repositories_fields import FieldRegistryRepository
from rolegate.store.repositories_portal import PortalRepository
from rolegate.store.repositories_records import RecordBulkRepository
from rolegate.store.repositories_schemas import SchemaRepository
from rolegate.store.repositories_scim import ScimRepository
from rolegate.store.repositories_sessions import WebSessionRepository
from rolegate.store.repositories_sites import SiteRepository
from rolegate.store.repositories_sso import SsoRepository
from rolegate.store.repositories_team import (
    EmailChangeRepository,
    InvitationRepository,
    OutboxRepository,
    PasswordResetRepository,
    SecurityEventRepository,
    TeamRepository,
)
from rolegate.store.repositories_webhooks import WebhookRepository
from rolegate.store.write_batches import Batch, WriteGate

__all__ = ["NOTIFY_CHANNEL", "UnitOfWork"]

NOTIFY_CHANNEL = "rolegate_revision"

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
"""Built once: a statement built per call must also make its cache key (issue 18)."""


class UnitOfWork:
    workspaces: WorkspaceRepository
    roles: RoleRepository
    members: MemberRepository
    users: UserRepository
    records: RecordRepository
    audit: AuditRepository
    api_keys: ApiKeyRepository
    fields: FieldRegistryRepository
    sites: SiteRepository
    records_bulk: RecordBulkRepository
    invitations: InvitationRepository
    password_resets: PasswordResetRepository
    outbox: OutboxRepository
    security_events: SecurityEventRepository
    team: TeamRepository
    email_changes: EmailChangeRepository
    web_sessions: WebSessionRepository
    webhooks: WebhookRepository
    sso: SsoRepository
    changes: ChangeRepository
    scim: ScimRepository
    schemas: SchemaRepository
    portal: PortalRepository

    def __init__(
        self,
        engine: Engine,
        *,
        on_revision: Callable[[str, int], None] | None = None,
        on_mail: Callable[[], None] | None = None,
        on_pending: Callable[[str, int | None], None] | None = None,
        on_webhooks: Callable[[], None] | None = None,
        read_only: bool = False,
        gate: WriteGate | None = None,
    ) -> None:
        self.engine = engine
        self.read_only = read_only
        self._gate = gate
        """The workspace's write gate: where the unit pipelines, it joins the writes of
        the workspace queued in this process in one transaction (`store.write_batches`).
        Such a unit changes that workspace only, and commits once, last."""
        self._batch: Batch | None = None
        self.prepared_workspace: Workspace | None = None
        """The workspace row as the unit's one change leaves it, when the change says
        (`context.prepare_next`): the next write of its batch starts from it."""
        self._joined: dict[str, int] = {}
        self._outcome: BaseException | None = None
        self._on_revision = on_revision
        self._on_pending = on_pending
        """Told, just before the commit, of each revision it is about to make (so the
        snapshot cache can wait for this process to load it rather than have decisions
        do it), then `on_revision` after the commit; None instead when the commit failed."""
        self.on_mail = on_mail
        """Wakes the outbox sender; a service that queues an email calls it after commit."""
        self.on_webhooks = on_webhooks
        """Wakes the webhook sender at once, even when it found no endpoint to deliver to;
        a service that registers or enables an endpoint calls it after commit."""
        self._conn: Connection | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []
        self._with_commit: list[tuple[Executable, dict[str, Any]]] = []
        self._writes: list[tuple[Executable, dict[str, Any]]] = []
        self._changed: dict[str, int] = {}
        self._moves: dict[str, int] = {}
        self._committed: dict[str, int] = {}

    def __enter__(self) -> UnitOfWork:
        if self._gate is not None and not self.read_only and self.pipelines:
            self._conn = self._join(self._gate)
        else:
            self._conn = self.engine.connect()
            if self.read_only:
                read_only_connection(self._conn)
            self._conn.begin()
        self._joined = {}
        self._outcome = None
        self.prepared_workspace = None
        self._changed = {}
        self._moves = {}
        self._committed = {}
        self._after_commit = []
        self._after_rollback = []
        self._with_commit = []
        self._writes = []
        self._bind(self._conn)
        return self

    def _bind(self, conn: Connection) -> None:
        for name, repo in (
            ("workspaces", WorkspaceRepository),
            ("roles", RoleRepository),
            ("members", MemberRepository),
            ("users", UserRepository),
            ("records", RecordRepository),
            ("audit", AuditRepository),
            ("api_keys", ApiKeyRepository),
            ("fields", FieldRegistryRepository),
            ("sites", SiteRepository),
            ("records_bulk", RecordBulkRepository),
            ("invitations", InvitationRepository),
            ("password_resets", PasswordResetRepository),
            ("outbox", OutboxRepository),
            ("security_events", SecurityEventRepository),
            ("team", TeamRepository),
            ("email_changes", EmailChangeRepository),
            ("web_sessions", WebSessionRepository),
            ("webhooks", WebhookRepository),
            ("sso", SsoRepository),
            ("changes", ChangeRepository),
            ("scim", ScimRepository),
            ("schemas", SchemaRepository),
            ("portal", PortalRepository),
        ):
            setattr(self, name, repo(conn))

    def lock(self, workspace_id: str) -> Workspace | None:
        """The workspace's row, locked until the commit (`WorkspaceRepository.lock`); in
        a batch after its first write, the row as the write before it left it, when it
        said (the batch's transaction holds the lock): no statement."""
        batch = self._batch
        left = batch.workspace if batch is not None and batch.members else None
        if left is not None and left.id == workspace_id:
            return left
        return self.workspaces.lock(workspace_id)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._conn is not None
        if self._batch is not None:
            self._leave(self._batch)
            return
        try:
            if self._conn.in_transaction():
                self._conn.rollback()
        finally:
            self._conn.close()
            self._conn = None
            self._with_commit = []
            self._writes = []
            undone, self._after_rollback = self._after_rollback, []
            for callback in undone:
                callback()
            committed, self._committed = self._committed, {}
            if self._on_revision is not None:
                # Only now, with this unit's connection back in the pool: the snapshot cache
                # may load the new revision here, and a writer that needed a second pooled
                # connection while holding its first starved when every other pooled
                # connection was held by a writer waiting for the workspace's lock.
                for workspace_id, revision in committed.items():
                    self._on_revision(workspace_id, revision)

    @property
    def batch(self) -> Batch | None:
        """The batch of writes this unit runs in, when it joined one (`store.write_batches`)."""
        return self._batch

    @property
    def pipelines(self) -> bool:
        """Whether statements can wait for the COMMIT and go with it in one round trip
        (PostgreSQL, not behind a transaction pooler)."""
        return self.engine.dialect.name == "postgresql" and not transaction_pooled(self.engine)

    def write_with_commit(self, statement: Executable, params: dict[str, Any]) -> None:
        """Execute a write whose result the caller does not read: where the unit
        pipelines, with the COMMIT, after the revision move, in the commit's round trip
        (the workspace's lock is held a round trip less); elsewhere now."""
        if not self.pipelines:
            assert self._conn is not None
            self._conn.execute(statement, params)
            return
        self._writes.append((statement, params))

    def revision_changed(self, workspace_id: str, revision: int) -> None:
        """Record that the workspace moved to `revision`: other processes hear it on
        commit (PostgreSQL NOTIFY is transactional: sent only if the commit happens)."""
        self._send_held()
        self._moved(workspace_id, revision)
        if self.engine.dialect.name == "postgresql":
            assert self._conn is not None
            self._conn.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": f"{workspace_id}:{revision}"})

    def next_revision(self, workspace_id: str) -> tuple[int, tuple[int, str] | None]:
        """Move the locked workspace to its next revision (`revision_changed`) and read
        the head of its audit chain, (seq, hash) or None, which the change's event
        follows. One round trip on PostgreSQL, NOTIFY included: the workspace stays
        locked until the commit, and every round trip meanwhile makes the next writer wait."""
        self._send_held()
        channel = NOTIFY_CHANNEL if self.engine.dialect.name == "postgresql" else None
        revision, head = self.workspaces.advance(workspace_id, notify_channel=channel)
        self._moved(workspace_id, revision)
        return revision, head

    def advance_to(
        self, workspace_id: str, revision: int, audit_rows: Sequence[Mapping[str, Any]], *, with_commit: bool = False
    ) -> None:
        """Move the locked workspace to `revision` (from `revision - 1`) and append the
        change's audit rows, chained by the caller to the head it knows: one round trip
        on PostgreSQL, NOTIFY included (`AuditRepository.append_advancing`).
        `with_commit`: the caller reads neither the revision nor the audit log again
        before it commits; on PostgreSQL the statement is then sent with the COMMIT, in
        one round trip (a pipeline), and a failure fails the commit."""
        if self._with_commit:
            self._send_held()  # an earlier move of this unit goes first
        assert self._conn is not None
        if with_commit and self.pipelines:
            self._with_commit.append(advancing_statement(workspace_id, revision, audit_rows, notify_channel=NOTIFY_CHANNEL))
        else:
            channel = NOTIFY_CHANNEL if self.engine.dialect.name == "postgresql" else None
            self.audit.append_advancing(workspace_id, revision, audit_rows, notify_channel=channel)
            self._send_held()
        self._moved(workspace_id, revision)

    def _held(self) -> list[tuple[Executable, dict[str, Any]]]:
        """The statements held for the commit, the revision moves before the writes."""
        held = self._with_commit + self._writes
        self._with_commit, self._writes = [], []
        return held

    def _send_held(self) -> None:
        """Statements held for the commit go now: another revision move follows them."""
        held = self._held()
        assert self._conn is not None or not held
        for statement, params in held:
            assert self._conn is not None
            self._conn.execute(statement, params)

    def _moved(self, workspace_id: str, revision: int) -> None:
        self._changed[workspace_id] = revision
        self._moves[workspace_id] = self._moves.get(workspace_id, 0) + 1

    def has_changed(self, workspace_id: str) -> bool:
        """Whether this unit already moved the workspace's revision (not yet committed)."""
        return workspace_id in self._changed

    def revisions_made(self, workspace_id: str) -> int:
        """How many times this unit moved the workspace's revision (since its last commit)."""
        return self._moves.get(workspace_id, 0)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def after_rollback(self, callback: Callable[[], None]) -> None:
        """Run `callback` when the unit ends without committing (a refusal, an error, a
        failed commit); a successful commit forgets the callbacks registered before it."""
        self._after_rollback.append(callback)

    def commit(self) -> None:
        assert self._conn is not None
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit: open it without read_only=True to write")
        changed, self._changed = self._changed, {}
        self._moves = {}
        if self._on_pending is not None:
            for workspace_id, revision in changed.items():
                self._on_pending(workspace_id, revision)
        if self._batch is not None:
            # The batch commits it with the others; the unit answers once it has.
            assert self not in self._batch.members, "a unit joined to a batch commits once, last"
            self._batch.held.extend(self._held())
            self._batch.members.append(self)
            self._batch.workspace = self.prepared_workspace
            self._joined.update(changed)
            return
        try:
            held = self._held()
            if held:
                # One round trip for the change's last statements and the COMMIT: the
                # workspace's lock is released a round trip sooner.
                write_batches.pipelined(self._conn, held, commit=True)
            self._conn.commit()
        except BaseException:
            if self._on_pending is not None:
                for workspace_id in changed:
                    self._on_pending(workspace_id, None)  # the revision will not come
            raise
        self._committed.update(changed)  # reported to `on_revision` on exit, connection released
        self._after_rollback = []
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def _join(self, gate: WriteGate) -> Connection:
        """Wait for this unit's turn among the workspace's writes; its connection."""
        batch = gate.enter()
        try:
            if not batch.conn.in_transaction():
                batch.conn.begin()
            batch.start()
        except BaseException as error:
            _end(gate, batch, error)
            raise
        self._batch = batch
        return batch.conn

    def _leave(self, batch: Batch) -> None:
        """The unit's code is done: undo it unless it committed, hand the batch to the
        next write or commit it, and (when it committed) answer with the batch."""
        assert self._gate is not None
        gate = self._gate
        self._batch, self._conn = None, None
        if self not in batch.members:  # refused, or changed nothing: no trace of it stays
            self._with_commit, self._writes = [], []
            try:
                batch.land()
                batch.undo(aborted=_aborted(batch.conn))
            except BaseException as error:
                _end(gate, batch, batch.failed or error)
            else:
                _hand_on(gate, batch)
            undone, self._after_rollback = self._after_rollback, []
            for callback in undone:
                callback()
            return
        _hand_on(gate, batch)
        batch.done.wait()
        if self._outcome is not None:
            raise self._outcome

    def _settle(self, error: BaseException | None) -> None:
        """The batch's commit succeeded (None) or failed: the callbacks this unit's own
        commit would have run, in the committing thread, in the batch's order."""
        if error is not None:
            self._outcome = error
            if self._on_pending is not None:
                for workspace_id in self._joined:
                    self._on_pending(workspace_id, None)
            undone, self._after_rollback, self._after_commit = self._after_rollback, [], []
            for callback in undone:
                callback()
            return
        self._after_rollback = []
        callbacks, self._after_commit = self._after_commit, []
        try:
            for callback in callbacks:
                callback()
        except BaseException as failed:  # raised to this unit's caller, as its own commit would
            self._outcome = failed

    def _report(self) -> None:
        """Tell `on_revision` of the revisions the unit made (the batch committed)."""
        if self._on_revision is not None and self._outcome is None:
            for workspace_id, revision in self._joined.items():
                self._on_revision(workspace_id, revision)


def _aborted(conn: Connection) -> bool:
    """Whether the connection's transaction failed (PostgreSQL refuses every statement
    until it is rolled back, or rolled back to a savepoint)."""
    driver = conn.connection.driver_connection
    info = getattr(driver, "info", None)
    return info is not None and info.transaction_status in (TransactionStatus.INERROR, TransactionStatus.UNKNOWN)


def _hand_on(gate: WriteGate, batch: Batch) -> None:
    """Hand the batch to the next write waiting, or end it."""
    if gate.next_turn(batch):
        gate.pass_to(batch)  # its first statement carries the held ones (`Batch._ride`)
        return
    _end(gate, batch, None)


def _end(gate: WriteGate, batch: Batch, error: BaseException | None) -> None:
    """Commit the batch (or, on `error`, roll it back), let the next write start the
    next batch, then settle every unit of this one."""
    try:
        held = batch.take_held()
        if error is None and batch.members:
            write_batches.pipelined(batch.conn, held, commit=True)
            batch.conn.commit()
    except BaseException as failed:
        error = error or batch.failed or failed
    finally:
        try:
            gate.leave(batch, committed=error is None and bool(batch.members))  # else rolled back
        finally:
            try:
                for unit in batch.members:
                    unit._settle(error)
                for unit in reversed(batch.members):  # the newest revision first: the snapshot cache compiles it alone
                    unit._report()
            finally:
                batch.done.set()
