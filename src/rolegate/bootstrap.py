"""The composition root: settings -> engine -> unit of work factory -> snapshot cache
(-> revision listener on PostgreSQL). The API, the CLI and the tests all start here."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from rolegate.config import Settings
from rolegate.services.snapshots import SnapshotCache
from rolegate.store import UnitOfWork, is_postgres, make_engine, metadata
from rolegate.store.notify import RevisionListener

__all__ = ["Rolegate", "bootstrap"]


@dataclass
class Rolegate:
    settings: Settings
    engine: Engine
    snapshots: SnapshotCache
    listener: RevisionListener | None = field(default=None)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.engine, on_revision=self.snapshots.mark)

    def create_tables(self) -> None:
        """For tests and throwaway databases; real ones use `rolegate db upgrade`."""
        metadata.create_all(self.engine)

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Rolegate:
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url)
    snapshots = SnapshotCache(engine, maxsize=settings.snapshot_cache_size)
    listener = None
    if settings.listen and is_postgres(engine):
        listener = RevisionListener(settings.database_url, snapshots.mark)
        listener.start()
    return Rolegate(settings, engine, snapshots, listener)
