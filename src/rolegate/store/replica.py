"""A PostgreSQL streaming replica for the snapshot cache's reads
(`ROLEGATE_DATABASE_REPLICA_URL`).

The cache asks the replica first, in one round trip: the workspace's revision there
and how far the replica's replay is behind the primary (`lag`, seconds). It uses the
replica for a read only when that revision is at least the one the read needs
(`min_revision`, or the newest this process knows of from its own commits and from
NOTIFY) and the lag is within the staleness bound; otherwise the read goes to the
primary. Lag is what keeps the staleness bound true on a replica: a revision read
there confirms the primary's state of `lag` seconds ago, not of now.

The lag: 0 while everything received has been replayed (an idle primary sends
nothing, and a caught-up replica is current), else the time since the last replayed
commit (replay paused, or behind a burst of writes), or infinite when unknown. A
replica cut off from its primary, having replayed all it received, reads as caught
up (it cannot know what it did not receive); LISTEN, on the primary, still moves the
known revision forward, and a read that needs a newer one goes to the primary.

An unreachable replica is not asked again for `retry_every` seconds (reads go to the
primary meanwhile): a replica host that drops packets would otherwise cost every
revalidation a connect timeout.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Engine, Select, bindparam, literal_column, select

from rolegate.domain.errors import StoreUnavailableError
from rolegate.store import tables as t
from rolegate.store.availability import reachable
from rolegate.throttled_log import ThrottledLog

__all__ = ["LAG_SQL", "Replica", "ReplicaRead"]

log = logging.getLogger(__name__)

LAG_SQL = (
    "CASE WHEN NOT pg_is_in_recovery() THEN 0::float8"
    " WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 'Infinity'::float8) END"
)
"""Seconds the replica's state is behind the primary's (see the module's docstring)."""


@cache
def _read_statement() -> Select[Any]:
    """One row, even without the workspace: its revision (or NULL) and the lag."""
    revision = select(t.workspaces.c.revision).where(t.workspaces.c.id == bindparam("ws")).scalar_subquery()
    return select(revision, literal_column(LAG_SQL))


@dataclass(frozen=True, slots=True)
class ReplicaRead:
    revision: int | None
    """The workspace's revision on the replica; None: no such workspace there (yet)."""
    lag: float
    """Seconds behind the primary: the replica holds what the primary held `lag` ago."""


class Replica:
    def __init__(
        self,
        engine: Engine,
        *,
        retry_every: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        incidents: ThrottledLog | None = None,
    ) -> None:
        self.engine = engine
        self._retry_every = retry_every
        self._clock = clock
        self._incidents = incidents or ThrottledLog(log)
        self._down_until = -math.inf
        self._lock = threading.Lock()
        self.failures = 0
        """Reads the replica could not answer (each sent to the primary instead)."""

    def available(self) -> bool:
        """False for `retry_every` seconds after a failure: do not ask it now."""
        return self._clock() >= self._down_until

    def read(self, workspace_id: str) -> ReplicaRead | None:
        """The workspace's revision on the replica and the replica's lag, in one round
        trip; None when the replica cannot be asked now (then ask the primary)."""
        if not self.available():
            return None
        try:
            with reachable(), self.engine.connect() as conn:
                row = conn.execute(_read_statement(), {"ws": workspace_id}).one()
                conn.rollback()
        except StoreUnavailableError as error:
            self.failed(error)
            return None
        self.recovered()
        return ReplicaRead(None if row[0] is None else int(row[0]), float(row[1]))

    def failed(self, error: StoreUnavailableError) -> None:
        """A read on the replica failed: the primary answers for `retry_every` seconds."""
        with self._lock:
            self.failures += 1
            self._down_until = self._clock() + self._retry_every
        self._incidents.warning("replica", f"read replica unreachable ({error.kind}): reading from the primary, retrying the replica every {self._retry_every:g} s")

    def recovered(self) -> None:
        if self._down_until != -math.inf:
            with self._lock:
                self._down_until = -math.inf
            self._incidents.recovered("replica", "read replica reachable again")
