"""PostgreSQL LISTEN/NOTIFY: hear the moment another process commits a new revision.

Notifications sent while the listener is not connected are lost for good, so each
time it (re)connects it calls `on_reconnect` after LISTEN is in place: the snapshot
cache then revalidates everything it holds, and nothing committed in the gap is missed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from rolegate.store.availability import failure_kind
from rolegate.store.database import CONNECT_TIMEOUT
from rolegate.store.uow import NOTIFY_CHANNEL
from rolegate.throttled_log import ThrottledLog

__all__ = ["RevisionListener"]

log = logging.getLogger(__name__)

class RevisionListener:
    """A daemon thread on its own connection; calls `on_revision(workspace_id, revision)`
    for every commit any process makes, and `on_reconnect()` each time its LISTEN is in
    place (again). Reconnects after errors, logging one line per kind of failure per
    interval, not a traceback per attempt."""

    def __init__(
        self,
        url: str,
        on_revision: Callable[[str, int], None],
        *,
        on_reconnect: Callable[[], None] | None = None,
        incidents: ThrottledLog | None = None,
        retry_every: float = 1.0,
    ) -> None:
        self._url = url.replace("postgresql+psycopg://", "postgresql://")
        self._on_revision = on_revision
        self._on_reconnect = on_reconnect
        self._incidents = incidents or ThrottledLog(log)
        self._retry_every = retry_every
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rolegate-listen", daemon=True)
        self.connects = 0
        """How many times LISTEN was put in place (1 + reconnects)."""
        self.backend_pid: int | None = None
        """The server process of the current LISTEN connection (None between connections)."""

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    self.connects += 1
                    if self._on_reconnect is not None:
                        self._on_reconnect()  # after LISTEN: a commit from now on is heard, one before is found by revalidation
                    if self.connects > 1:
                        self._incidents.recovered("listener", "revision listener connected again; cached snapshots revalidated")
                    self._ready.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            workspace_id, _, rev = note.payload.rpartition(":")
                            self._on_revision(workspace_id, int(rev))
            except (psycopg.Error, ValueError) as error:
                self.backend_pid = None
                self._incidents.warning("listener", f"revision listener lost its connection ({failure_kind(error)}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}); reconnecting every {self._retry_every:g} s")
                self._stop.wait(self._retry_every)
