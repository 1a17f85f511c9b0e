"""The write process of `rolegate serve --write-process`: the same app under uvicorn,
listening on a Unix socket in a directory only this user can enter, answering the
changes the deciding processes forward to it (`rolegate.api.write_process`).

`WriteProcess` starts it, waits until it accepts, restarts it if it dies while the
server runs (a change sent meanwhile answers 503 with `Retry-After`, nothing
changed), and stops it with the server. It runs in a session of its own, so a Ctrl-C
at the terminal reaches the server, which stops it (rather than both racing); and it
stops itself when the server is gone, however that ended (`_exit_with_parent`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Final

import uvicorn

__all__ = ["KEEP_ALIVE_SECONDS", "SOCKET_VARIABLE", "WriteProcess", "main"]

log = logging.getLogger("rolegate.serve")

SOCKET_VARIABLE: Final = "ROLEGATE_WRITE_PROCESS_SOCKET"
"""Set for the deciding processes: where they send changes (`Settings.write_process_socket`)."""
_LISTEN_VARIABLE: Final = "ROLEGATE_WRITE_PROCESS_LISTEN"
"""Set for the write process only: the socket it listens on."""
START_SECONDS: Final = 60.0
"""How long its start-up may take (imports, presets, database) on a busy machine."""
STOP_SECONDS: Final = 15.0
"""How long it may take to finish the changes in flight when the server stops."""
RESTART_PAUSE_SECONDS: Final = 1.0
KEEP_ALIVE_SECONDS: Final = 3600
"""How long it keeps an idle connection: longer than the deciding processes keep theirs
(`api.write_process.KEEP_ALIVE_SECONDS`), so that they always close first and never
send a change on a connection this side is closing."""


class WriteProcess:
    def __init__(self, app_factory: str, *, access_log: bool) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="rolegate-writes-"))  # 0700: only this user reaches the socket
        self.socket_path = str(self._directory / "writes.sock")
        self._command = [sys.executable, "-c", "from rolegate.cli.write_process import main; main()"]
        self._environment = {k: v for k, v in os.environ.items() if k != SOCKET_VARIABLE} | {
            _LISTEN_VARIABLE: self.socket_path,
            "ROLEGATE_WRITE_PROCESS_FACTORY": app_factory,
            "ROLEGATE_ACCESS_LOG": "1" if access_log else "0",
        }
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._watch: threading.Thread | None = None

    def start(self) -> None:
        """Starts it and returns once it accepts; raises if it exits first or is slow."""
        self._process = self._spawn()
        self._watch = threading.Thread(target=self._keep_running, name="rolegate-write-process", daemon=True)
        self._watch.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(self._command, env=self._environment, start_new_session=True)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the write process exited with code {process.returncode} while starting (its log says why)")
            if _accepts(self.socket_path):
                return process
            time.sleep(0.05)
        process.kill()
        raise RuntimeError(f"the write process did not accept on {self.socket_path} within {START_SECONDS:g} s")

    def _keep_running(self) -> None:
        while not self._stopping.is_set():
            process = self._process
            assert process is not None
            code = process.wait()
            if self._stopping.is_set():
                return
            log.error("the write process exited with code %s: restarting it (changes answer 503 meanwhile)", code)
            self._remove_socket()
            time.sleep(RESTART_PAUSE_SECONDS)
            try:
                self._process = self._spawn()
            except RuntimeError as error:
                log.error("%s; trying again", error)
                continue
            if self._stopping.is_set():  # the server stopped while this one started: `stop` did not see it
                self._process.terminate()
                self._process.wait(STOP_SECONDS)
                return

    def stop(self) -> None:
        self._stopping.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # uvicorn finishes the changes in flight
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self._directory, ignore_errors=True)

    def _remove_socket(self) -> None:
        Path(self.socket_path).unlink(missing_ok=True)


def _accepts(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(path)
        except OSError:
            return False
        return True


def main() -> None:  # pragma: no cover (runs in the write process; tests/cli/test_write_process.py drives it)
    """The write process: the app, as the deciding processes run it but without a
    socket to forward to, on the Unix socket it was given."""
    path = os.environ.pop(_LISTEN_VARIABLE)
    factory = os.environ.pop("ROLEGATE_WRITE_PROCESS_FACTORY")
    _exit_with_parent()
    uvicorn.run(
        factory,
        factory=True,
        uds=path,
        access_log=os.environ.get("ROLEGATE_ACCESS_LOG") == "1",
        log_config=None,
        # Only the deciding processes reach the socket: the caller's address and scheme
        # they put in X-Forwarded-For and -Proto are believed.
        proxy_headers=True,
        forwarded_allow_ips="*",
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


def _exit_with_parent() -> None:  # pragma: no cover (runs in the write process)
    """A server killed outright (SIGKILL) cannot stop its write process: the process
    notices it was orphaned and stops itself, as at SIGTERM."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="rolegate-parent-watch", daemon=True).start()
