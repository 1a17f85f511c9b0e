"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["Settings"]

DEFAULT_DATABASE_URL = "sqlite:///./rolegate.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    snapshot_cache_size: int = 256
    listen: bool = True
    """On PostgreSQL, LISTEN for other processes' commits (stale-free snapshots)."""

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": os.environ.get("ROLEGATE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "snapshot_cache_size": int(os.environ.get("ROLEGATE_SNAPSHOT_CACHE_SIZE", "256")),
            "listen": os.environ.get("ROLEGATE_LISTEN", "1") not in {"0", "false", "no"},
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]  # keys are this dataclass's fields
