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

Isolation: a write refused, or one that changes nothing, leaves no trace. A write
that is not the batch's first takes a savepoint just before its first statement that
is not a plain SELECT, and is rolled back to it; before that it wrote nothing (the
writes sent with the commit, `UnitOfWork.write_with_commit`, are dropped with it).
The first write of a batch rolls back the whole transaction.

A failure that aborts the transaction itself (the connection lost, a statement that
failed before any savepoint, a failed COMMIT) fails every write of the batch, each
with that error, as a failed commit fails a write alone: nothing of them is kept.

Only PostgreSQL pipelines this (`UnitOfWork.pipelines`); on SQLite, or with batches of
one (`ROLEGATE_WRITE_BATCH=1`), each write has its transaction, as before."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, Executable, event, text

from rolegate.domain.errors import UnavailableError

if TYPE_CHECKING:
    from rolegate.domain.workspace import Workspace
    from rolegate.store.uow import UnitOfWork

__all__ = ["DEFAULT_WRITE_BATCH", "Batch", "BatchFailedError", "WriteBatches", "WriteGate"]

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
    """One open transaction shared by the writes of a workspace, one at a time."""

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
        self.error: BaseException | None = None
        self.savepoint: str | None = None
        """The running write's savepoint, once it took one."""
        self.wrote = False
        """The running write sent a statement that is not a plain SELECT."""
        self._jobs = 0
        self._following = False
        event.listen(conn, "before_cursor_execute", self._before)

    def start(self) -> None:
        """The next write's turn: a savepoint before its first write, unless it is the
        batch's first (it rolls back the whole transaction instead)."""
        self._jobs += 1
        self.savepoint, self.wrote = None, False
        self._following = bool(self.members)

    def _before(self, conn: Connection, cursor: Any, statement: str, *args: object) -> None:
        if statement.lstrip()[:6].upper() == "SELECT" and "pg_notify" not in statement:
            return
        self.wrote = True
        if self._following and self.savepoint is None:
            self.savepoint = f"rolegate_write_{self._jobs}"
            cursor.execute(f"SAVEPOINT {self.savepoint}")

    def undo(self, *, aborted: bool) -> None:
        """Undo what the running write sent (it is refused, or changed nothing).
        `aborted`: the transaction failed; unless the write had taken its savepoint or
        is the batch's first, the writes before it are lost too (raises)."""
        if not (self.wrote or aborted):
            return
        if self.savepoint is not None:
            self.conn.execute(text(f"ROLLBACK TO SAVEPOINT {self.savepoint}"))
        elif not self.members:  # the batch's first write: nothing else is in the transaction
            self.conn.rollback()
        else:
            raise BatchFailedError  # the transaction failed before the write took its savepoint

    def send_held(
        self, pipelined: Callable[[Connection, Sequence[tuple[Executable, dict[str, Any]]], bool], None]
    ) -> None:
        """Send the held statements now (the next write reads what they change)."""
        held, self.held = self.held, []
        following, self._following = self._following, False  # not the next write's statements
        try:
            if held:
                pipelined(self.conn, held, False)
        finally:
            self._following = following

    def close(self) -> None:
        event.remove(self.conn, "before_cursor_execute", self._before)
        self.conn.close()


class _Turn:
    __slots__ = ("batch", "granted")

    def __init__(self) -> None:
        self.batch: Batch | None = None
        self.granted = threading.Event()


class WriteGate:
    """One workspace's queue of this process's writes (`WriteBatches.gate`)."""

    def __init__(self, engine: Engine, max_size: int, on_idle: Callable[[WriteGate], None] = lambda gate: None) -> None:
        self._engine = engine
        self.max_size = max_size
        self._on_idle = on_idle
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
            return Batch(self._engine.connect())
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

    def leave(self, _: Batch | None) -> None:
        """The batch is over (committed or not): the next write waiting starts a new one."""
        with self._lock:
            turn = self._waiting.popleft() if self._waiting else None
            self._busy = turn is not None
        if turn is None:
            self._on_idle(self)
            return
        turn.granted.set()  # no batch: it opens its own


class WriteBatches:
    """The gates of this process's workspaces, for one database."""

    def __init__(self, engine: Engine, max_size: int = DEFAULT_WRITE_BATCH) -> None:
        self._engine = engine
        self.max_size = max_size
        self._gates: dict[str, WriteGate] = {}
        self._lock = threading.Lock()

    def gate(self, workspace_id: str) -> WriteGate | None:
        """The workspace's gate; None when writes are not batched (one per batch)."""
        if self.max_size <= 1:
            return None
        gate = self._gates.get(workspace_id)
        if gate is None:
            with self._lock:
                gate = self._gates.setdefault(
                    workspace_id, WriteGate(self._engine, self.max_size, partial(self._idle, workspace_id))
                )
        return gate

    def _idle(self, workspace_id: str, gate: WriteGate) -> None:
        """Forget an idle gate (one per workspace written would otherwise stay). A write
        that took it just before enters it still: two batches of the workspace may then
        run at once, and its row's lock orders them as it orders processes."""
        with self._lock:
            if self._gates.get(workspace_id) is gate:
                del self._gates[workspace_id]
