"""One log line per kind of failure per interval, not one per request.

During an outage every request fails the same way; a traceback each would drown the
log (and cost more than the answer). `ThrottledLog` writes the first occurrence of a
kind, then stays quiet for `interval` seconds and says how many it held back when it
speaks again. Standard library only, so every layer may use it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

__all__ = ["DEFAULT_INTERVAL", "ThrottledLog"]

DEFAULT_INTERVAL = 60.0


class ThrottledLog:
    def __init__(
        self, logger: logging.Logger, *, interval: float = DEFAULT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def warning(self, kind: str, message: str) -> bool:
        """Log `message` unless `kind` was logged less than `interval` ago; True if logged."""
        now = self._clock()
        with self._lock:
            if now < self._next.get(kind, float("-inf")):
                self._held[kind] = self._held.get(kind, 0) + 1
                return False
            self._next[kind] = now + self._interval
            held = self._held.pop(kind, 0)
        more = f" ({held} more since the last report)" if held else ""
        self._logger.warning("%s [%s]%s", message, kind, more)
        return True

    def recovered(self, kind: str, message: str) -> None:
        """The failure of `kind` is over: say so once, and report its next occurrence at once."""
        with self._lock:
            if self._next.pop(kind, None) is None:
                return
            held = self._held.pop(kind, 0)
        more = f" ({held} more failures since the last report)" if held else ""
        self._logger.warning("%s [%s]%s", message, kind, more)
