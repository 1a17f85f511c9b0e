"""Group commit: the writes of one workspace that queue in this process share one
transaction, one lock of the workspace and one COMMIT.

Every change of a workspace takes its row's lock (`WorkspaceRepository.lock`) and
holds it to its commit, so a workspace takes one change at a time, and each change
paid for its own lock hand-over and its own commit. When writes queue, that was most
of the time the next one waited. Here a write whose turn comes while another of this
process is under way waits in the process instead (no connection held), and is handed
the open transaction when the one before it is done: it runs, in its own thread, the
same code as alone, and sees everything the writes before it changed (they are one
transaction). The last write of a batch (no one waiting, or `max_size` reached)
commits them all, and each write answers only once that commit succeeded.

The statements a write holds for the COMMIT go with the next write's first statement,
in its round trip (`Batch._ride`); the last write's, with the COMMIT.

Isolation: a write refused, or one that changes nothing, leaves no trace. A write
that is not the batch's first takes a savepoint before its first statement (in the
round trip that carries the held statements), or, when none are held, just before its
first statement that is not a plain SELECT, and is rolled back to it; before that it
wrote nothing (the writes sent with the commit, `UnitOfWork.write_with_commit`, are
dropped with it). The first write of a batch rolls back the whole transaction.

A failure that aborts the transaction itself (the connection lost, a held statement
that failed, a statement that failed before any savepoint, a failed COMMIT) fails
every write of the batch, as a failed commit fails a write alone: nothing of them is
kept, and a write whose own change was not at fault gets `BatchFailedError`.

Only PostgreSQL pipelines this (`UnitOfWork.pipelines`); on SQLite, or with batches of
one (`ROLEGATE_WRITE_BATCH=1`), each write has its transaction, as before."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from psycopg.pq import ExecStatus
from sqlalchemy import Connection, Engine, Executable, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError

from rolegate.domain.errors import UnavailableError
from rolegate.store.database import BATCH

if TYPE_CHECKING:
    from rolegate.domain.workspace import Workspace
    from rolegate.store.uow import UnitOfWork

__all__ = ["DEFAULT_WRITE_BATCH", "Batch", "BatchFailedError", "Spares", "WriteBatches", "WriteGate", "pipelined"]

log = logging.getLogger(__name__)

COMMAND_OK: Final = ExecStatus.COMMAND_OK

DEFAULT_WRITE_BATCH: Final = 16
"""Writes of one workspace in one transaction at most (`ROLEGATE_WRITE_BATCH`). The
first of a batch answers only once the last is done; under a queue as long as the
batch, more writes per commit raise the rate the queue drains at (docs/benchmarks.md)."""


class BatchFailedError(UnavailableError):
    """Another write of the batch failed the transaction it shared with this one: this
    one is not kept either (503: sent again, it is decided afresh)."""

    def __init__(self) -> None:
        super().__init__(
            "the change was not made: another change of this workspace, made in the same transaction, failed it, and nothing of either was kept",
            retry_after=1,
            fix="Send the change again.",
        )


class Batch:
    """One open transaction shared by the writes of a workspace, one at a time.

    The statements a write holds for the COMMIT (`UnitOfWork.write_with_commit`) wait
    in `held` when it hands the batch on; the next write's first statement carries
    them (`_ride`): one pipeline, one round trip, the held statements, that write's
    savepoint, then its statement. So it reads what they changed without a round trip
    of their own, and a statement of its own that fails goes back to its savepoint
    instead of failing the batch."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.held: list[tuple[Executable, dict[str, Any]]] = []
        """The statements of the writes done so far that wait for the COMMIT."""
        self.members: list[UnitOfWork] = []
        """The units whose writes are in the batch, in order."""
        self.workspace: Workspace | None = None
        """The workspace row as the last of them left it, when it said (`UnitOfWork.
        prepared_workspace`): the next write needs not read it (the batch holds its lock)."""
        self.done = threading.Event()
        self.failed: BaseException | None = None
        """What failed a held statement: the transaction is lost for every write of the batch."""
        self.savepoint: str | None = None
        """The running write's savepoint, once it took one."""
        self.wrote = False
        """The running write sent a statement that is not a plain SELECT."""
        self._jobs = 0
        self._following = False
        self._sending = False
        self._riding: AbstractContextManager[Any] | None = None
        self._savepoint_cursor: Any = None
        if conn not in _listened:
            # Once per connection, not per batch: the next batch often runs on the same
            # one (`Spares`), and adding and removing listeners cost its first write
            # half a millisecond of the workspace's turn.
            event.listen(conn, "before_execute", _ride)
            event.listen(conn, "before_cursor_execute", _before)
            event.listen(conn, "after_cursor_execute", _landed)
            _listened.add(conn)
        conn.info[BATCH] = self

    def start(self) -> None:
        """The next write's turn: a savepoint before its first write, unless it is the
        batch's first (it rolls back the whole transaction instead)."""
        self._jobs += 1
        self.savepoint, self.wrote = None, False
        self._following = bool(self.members)

    def _ride(self, conn: Connection, *args: object) -> None:
        """Before a statement of the running write: open a pipeline and put the held
        statements and the write's savepoint in it; the statement follows them, and
        `_landed` syncs the pipeline once it is sent."""
        if self._sending:
            return
        if self._riding is not None:  # a statement that failed before it was sent left it open
            self.land()
        if not self.held:
            return
        held, self.held = self.held, []
        driver: Any = conn.connection.driver_connection
        riding = driver.pipeline()
        riding.__enter__()
        self._riding = riding
        try:
            with self._sent():
                for statement, params in held:
                    conn.execute(statement, params)
            if self._following and self.savepoint is None:
                self.savepoint = f"rolegate_write_{self._jobs}"
                self._savepoint_cursor = driver.cursor()
                self._savepoint_cursor.execute(f"SAVEPOINT {self.savepoint}")
        except Exception as error:  # a held statement's result came back failed already
            self._riding, self._savepoint_cursor = None, None
            with suppress(Exception):
                riding.__exit__(type(error), error, error.__traceback__)
            self._fail(error)

    def _landed(self, conn: Connection, *args: object) -> None:
        if self._riding is not None and not self._sending:
            self.land()

    def land(self) -> None:
        """Sync the open pipeline, if any. A held statement that failed fails the
        batch (`failed`, and `BatchFailedError` to the running write, whose change was
        not at fault); the running write's own failure is its own, as alone."""
        riding, self._riding = self._riding, None
        savepoint, self._savepoint_cursor = self._savepoint_cursor, None
        if riding is None:
            return
        try:
            riding.__exit__(None, None, None)
        except Exception as error:
            taken = savepoint is not None and savepoint.pgresult is not None and savepoint.pgresult.status == COMMAND_OK
            if not taken:  # failed before the savepoint: a held statement
                self._fail(error)
            raise

    def _fail(self, error: Exception) -> None:
        """A held statement failed: the batch's transaction is lost (`failed`), and the
        running write, not at fault, is told to send its change again."""
        dbapi_error = self.conn.dialect.loaded_dbapi.Error
        failed = DBAPIError.instance(None, None, error, dbapi_error) if isinstance(error, dbapi_error) else error
        self.failed, self.savepoint = failed, None
        raise BatchFailedError from failed

    def crashed(self) -> BatchFailedError | None:
        """The running write's statement failed while a ride was open (its result came
        back with a held statement's failure): sync it, and say whether the failure was
        a held statement's (`handle_error`, `WriteBatches`)."""
        if self._riding is None or self._sending:
            return None
        try:
            self.land()
        except BatchFailedError as failed:
            return failed
        except Exception:  # the statement's own failure: its error goes on
            return None
        return None

    @contextmanager
    def _sent(self) -> Iterator[None]:
        """Statements that are not the running write's: no ride, no savepoint, not its writes."""
        sending, self._sending = self._sending, True
        try:
            yield
        finally:
            self._sending = sending

    def _before(self, conn: Connection, cursor: Any, statement: str, *args: object) -> None:
        if self._sending or (statement.lstrip()[:6].upper() == "SELECT" and "pg_notify" not in statement):
            return
        self.wrote = True
        if self._following and self.savepoint is None:
            self.savepoint = f"rolegate_write_{self._jobs}"
            cursor.connection.execute(f"SAVEPOINT {self.savepoint}")

    def undo(self, *, aborted: bool) -> None:
        """Undo what the running write sent (it is refused, or changed nothing).
        `aborted`: the transaction failed; unless the write had taken its savepoint or
        is the batch's first, the writes before it are lost too (raises)."""
        if self.failed is not None:
            raise BatchFailedError from self.failed
        if not (self.wrote or aborted):
            return
        if self.savepoint is not None:
            self.conn.execute(text(f"ROLLBACK TO SAVEPOINT {self.savepoint}"))
        elif not self.members:  # the batch's first write: nothing else is in the transaction
            self.conn.rollback()
        else:
            raise BatchFailedError  # the transaction failed before the write took its savepoint

    def send_held(self) -> None:
        """Send the held statements now: a statement SQLAlchemy does not see (COPY, on
        the driver's connection) follows them (`store.database.driver_connection`)."""
        self.land()
        held, self.held = self.held, []
        if held:
            with self._sent():
                pipelined(self.conn, held, False)

    def take_held(self) -> list[tuple[Executable, dict[str, Any]]]:
        """The held statements, for the COMMIT: the writes' turns are over (no savepoint)."""
        self.land()
        held, self.held = self.held, []
        self._following = False
        return held

    def close(self) -> Connection:
        """The batch is over: its connection, which runs it no more (its transaction,
        if any, still open: `WriteGate.leave` keeps it for the next batch or closes it)."""
        self._riding = None  # a ride left open dies with the connection's transaction
        self.conn.info.pop(BATCH, None)
        return self.conn


_listened: weakref.WeakSet[Connection] = weakref.WeakSet()
"""The connections `_ride`, `_before` and `_landed` listen to: each passes the event
to the batch running on the connection, if any (`database.BATCH`)."""


def _running(conn: Connection) -> Batch | None:
    batch = conn.info.get(BATCH)
    return batch if isinstance(batch, Batch) else None


def _ride(conn: Connection, *args: object) -> None:
    batch = _running(conn)
    if batch is not None:
        batch._ride(conn, *args)


def _before(conn: Connection, cursor: Any, statement: str, *args: object) -> None:
    batch = _running(conn)
    if batch is not None:
        batch._before(conn, cursor, statement, *args)


def _landed(conn: Connection, *args: object) -> None:
    batch = _running(conn)
    if batch is not None:
        batch._landed(conn, *args)


def pipelined(conn: Connection, held: Sequence[tuple[Executable, dict[str, Any]]], commit: bool) -> None:
    """Send `held` in one round trip (a pipeline), with the COMMIT when `commit`."""
    driver = conn.connection.driver_connection
    assert driver is not None
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with driver.pipeline():
            for statement, params in held:
                conn.execute(statement, params)
            if commit:
                driver.commit()
    except dbapi_error as error:  # raised by the driver's commit: wrapped as SQLAlchemy wraps the others
        raise DBAPIError.instance(None, None, error, dbapi_error) from error


class _Turn:
    __slots__ = ("batch", "granted")

    def __init__(self) -> None:
        self.batch: Batch | None = None
        self.granted = threading.Event()


class WriteGate:
    """One workspace's queue of this process's writes (`WriteBatches.gate`)."""

    def __init__(
        self,
        engine: Engine,
        max_size: int,
        on_idle: Callable[[WriteGate], None] = lambda gate: None,
        spares: Spares | None = None,
    ) -> None:
        self._engine = engine
        self.max_size = max_size
        self._on_idle = on_idle
        self._spares = spares if spares is not None else Spares(engine)
        self._lock = threading.Lock()
        self._busy = False
        self._waiting: deque[_Turn] = deque()

    def enter(self) -> Batch:
        """Wait for this write's turn: the open batch to join, or a new one."""
        with self._lock:
            if self._busy:
                turn = _Turn()
                self._waiting.append(turn)
            else:
                self._busy = True
                turn = None
        if turn is not None:
            turn.granted.wait()
            if turn.batch is not None:
                return turn.batch
        try:
            return Batch(self._spares.connect())
        except BaseException:
            self.leave(None)
            raise

    def queued(self) -> int:
        """Writes waiting for their turn."""
        with self._lock:
            return len(self._waiting)

    def next_turn(self, batch: Batch) -> bool:
        """Whether a write waits and may join `batch`: if so, it is its turn now
        (`pass_to`); else the batch ends with the caller."""
        with self._lock:
            return bool(self._waiting) and len(batch.members) < self.max_size

    def pass_to(self, batch: Batch) -> None:
        """Hand `batch` to the write waiting first (after `next_turn` said one does)."""
        with self._lock:
            turn = self._waiting.popleft()
        turn.batch = batch
        turn.granted.set()

    def leave(self, batch: Batch | None, *, committed: bool = False) -> None:
        """The batch is over (committed or not): the next write waiting starts a new one,
        on the batch's connection when it committed (`Spares`)."""
        if batch is not None:
            self._spares.put(batch.close(), reuse=committed)
        with self._lock:
            turn = self._waiting.popleft() if self._waiting else None
            self._busy = turn is not None
        if turn is None:
            self._on_idle(self)
            return
        turn.granted.set()  # no batch: it opens its own


class Spares:
    """The connection of the last batch that committed, kept for the next batch of any
    workspace (`max_spares` at most): under a queue a batch follows a batch, and each
    took a pooled connection, with its ping, and gave it back, with its reset. A spare
    older than `fresh_for` seconds goes back to the pool, and the next batch checks one
    out (pinged) instead: a connection the database dropped meanwhile is not used."""

    def __init__(self, engine: Engine, *, max_spares: int = 1, fresh_for: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self.max_spares = max_spares
        self.fresh_for = fresh_for
        self._clock = clock
        self._kept: list[tuple[Connection, float]] = []
        self._lock = threading.Lock()

    def connect(self) -> Connection:
        now = self._clock()
        with self._lock:
            kept, self._kept = self._kept, []
        found: Connection | None = None
        for conn, at in reversed(kept):
            if found is None and now - at <= self.fresh_for:
                found = conn
            else:
                self._close(conn)
        return found if found is not None else self._engine.connect()

    def put(self, conn: Connection, *, reuse: bool) -> None:
        """`reuse`: the connection's transaction committed (else it is rolled back, and
        closed)."""
        if reuse and not conn.closed and not conn.invalidated and not conn.in_transaction():
            with self._lock:
                if len(self._kept) < self.max_spares:
                    self._kept.append((conn, self._clock()))
                    return
        self._close(conn)

    def close(self) -> None:
        with self._lock:
            kept, self._kept = self._kept, []
        for conn, _ in kept:
            self._close(conn)

    @staticmethod
    def _close(conn: Connection) -> None:
        try:
            conn.close()  # rolls back what was not committed, and gives it back to the pool
        except Exception as error:  # a connection already broken: the pool replaces it
            log.debug("closing a batch's connection failed: %r", error)


class WriteBatches:
    """The gates of this process's workspaces, for one database."""

    def __init__(self, engine: Engine, max_size: int = DEFAULT_WRITE_BATCH) -> None:
        self._engine = engine
        self.max_size = max_size
        self._gates: dict[str, WriteGate] = {}
        self._lock = threading.Lock()
        self.spares = Spares(engine)
        if max_size > 1:
            event.listen(engine, "handle_error", _crashed)

    def close(self) -> None:
        """Give the spare connection back (before the engine is disposed)."""
        self.spares.close()

    def gate(self, workspace_id: str) -> WriteGate | None:
        """The workspace's gate; None when writes are not batched (one per batch)."""
        if self.max_size <= 1:
            return None
        gate = self._gates.get(workspace_id)
        if gate is None:
            with self._lock:
                gate = self._gates.setdefault(
                    workspace_id, WriteGate(self._engine, self.max_size, partial(self._idle, workspace_id), self.spares)
                )
        return gate

    def _idle(self, workspace_id: str, gate: WriteGate) -> None:
        """Forget an idle gate (one per workspace written would otherwise stay). A write
        that took it just before enters it still: two batches of the workspace may then
        run at once, and its row's lock orders them as it orders processes."""
        with self._lock:
            if self._gates.get(workspace_id) is gate:
                del self._gates[workspace_id]


def _crashed(context: ExceptionContext) -> BaseException | None:
    """A statement failed: when it ran on a batch's connection with held statements
    riding before it, and one of those failed, the write is told so (`Batch.crashed`)."""
    conn = context.connection
    try:
        batch = conn.info.get(BATCH) if conn is not None and not conn.closed else None
    except Exception:  # an invalidated connection: no batch runs on it any more
        return None
    return batch.crashed() if isinstance(batch, Batch) else None
