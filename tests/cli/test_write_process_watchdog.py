"""`WriteProcess`'s watchdog, with the process it starts faked so that each race can be
made to happen on purpose: a write process that dies is started again, and one started
while the server stops is stopped too, never left running without a server."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rolegate.cli import write_process
from rolegate.cli.write_process import WriteProcess


class FakeProcess:
    """What `WriteProcess` uses of a `subprocess.Popen`: it runs until told to exit."""

    def __init__(self) -> None:
        self.exited = threading.Event()
        self.returncode: int | None = None
        self.signals: list[str] = []

    def exit(self, code: int) -> None:
        self.returncode = code
        self.exited.set()

    def wait(self, timeout: float | None = None) -> int:
        if not self.exited.wait(timeout):
            raise subprocess.TimeoutExpired("write process", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode if self.exited.is_set() else None

    def send_signal(self, number: int) -> None:
        self.signals.append(signal.Signals(number).name)
        self.exit(-number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Starts:
    """The fake processes a `WriteProcess` started, in order; `during_next(f)` runs `f`
    while the next start is under way, before it returns its process."""

    def __init__(self) -> None:
        self.processes: list[FakeProcess] = []
        self.counted = threading.Semaphore(0)
        self._during: list[Callable[[], None]] = []

    def during_next(self, f: Callable[[], None]) -> None:
        self._during.append(f)

    def spawn(self) -> FakeProcess:
        if self._during:
            self._during.pop()()
        self.processes.append(FakeProcess())
        self.counted.release()
        return self.processes[-1]


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WriteProcess, Starts]]:
    monkeypatch.setattr(write_process, "RESTART_PAUSE_SECONDS", 0.0)
    wp = WriteProcess("rolegate.asgi:create_app_from_env", access_log=False)
    starts = Starts()
    monkeypatch.setattr(wp, "_spawn", starts.spawn)
    try:
        yield wp, starts
    finally:
        wp.stop()
        for process in starts.processes:
            process.exit(0)


def test_a_write_process_that_dies_is_started_again_and_stopped_with_the_server(watched: tuple[WriteProcess, Starts]) -> None:
    wp, starts = watched
    wp.start()
    assert starts.counted.acquire(timeout=10)
    starts.processes[0].exit(1)  # killed
    assert starts.counted.acquire(timeout=10), "the watchdog did not start another write process"
    assert starts.processes[1].poll() is None
    directory = Path(wp.socket_path).parent
    wp.stop()
    assert starts.processes[1].signals == ["SIGTERM"]  # uvicorn finishes the changes in flight
    assert not directory.exists()
    assert wp._watch is not None
    wp._watch.join(10)
    assert not wp._watch.is_alive()
    assert len(starts.processes) == 2  # not started again once stopped


def test_a_write_process_started_while_the_server_stops_is_stopped_too(watched: tuple[WriteProcess, Starts]) -> None:
    wp, starts = watched
    wp.start()
    stopper = threading.Thread(target=wp.stop)

    def server_stops() -> None:
        # `stop` runs to its end while the new process starts: it sees only the dead one.
        stopper.start()
        stopper.join(10)
        assert not stopper.is_alive()

    starts.during_next(server_stops)
    starts.processes[0].exit(1)  # killed: the watchdog starts another, and the server stops meanwhile
    assert wp._watch is not None
    wp._watch.join(10)
    assert not wp._watch.is_alive()
    assert len(starts.processes) == 2
    assert starts.processes[1].signals == ["SIGTERM"]  # not left running without a server
    assert starts.processes[1].poll() is not None
