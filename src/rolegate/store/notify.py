"""PostgreSQL LISTEN/NOTIFY: hear the moment another process commits a new revision."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from rolegate.store.uow import NOTIFY_CHANNEL

__all__ = ["RevisionListener"]

log = logging.getLogger(__name__)


class RevisionListener:
    """A daemon thread on its own connection; calls `on_revision(workspace_id, revision)`
    for every commit any process makes. Reconnects after errors."""

    def __init__(self, url: str, on_revision: Callable[[str, int], None]) -> None:
        self._url = url.replace("postgresql+psycopg://", "postgresql://")
        self._on_revision = on_revision
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rolegate-listen", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        self._ready.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._ready.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            workspace_id, _, rev = note.payload.rpartition(":")
                            self._on_revision(workspace_id, int(rev))
            except (psycopg.Error, ValueError):
                log.exception("revision listener failed; reconnecting")
                self._stop.wait(1.0)
