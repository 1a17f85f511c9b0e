"""A private PostgreSQL cluster for fault tests, started from the installed binaries
(initdb, pg_ctl) in a temporary directory, on a free port, its unix socket in that
directory: the test may stop, restart and kill it at will without touching the
machine's shared server. `PgCluster.replica_of(primary)` makes a streaming replica of
one (pg_basebackup -R, hot standby); `PgBouncer` puts a transaction-pooling PgBouncer
in front of one, from a generated ini, never the system service.

The binaries are found in ``ROLEGATE_PG_BIN``, else ``pg_config --bindir``, else
``/usr/lib/postgresql/<version>/bin``; pgbouncer on the PATH or in /usr/sbin. Missing:
the test is skipped saying how to get them, except under ``CI=true``, where it fails.
initdb, postgres and pgbouncer refuse to run as root: as root, they run as the
``postgres`` user (``runuser``), who owns the directory.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

__all__ = ["PgBouncer", "PgCluster", "find_bindir", "find_pgbouncer"]

INSTALL_HINT = (
    "the PostgreSQL server binaries (initdb, pg_ctl, postgres) are not installed: "
    "`apt-get install postgresql` (Debian/Ubuntu; they land in /usr/lib/postgresql/<version>/bin), "
    "or set ROLEGATE_PG_BIN to the directory holding them"
)


PGBOUNCER_HINT = (
    "pgbouncer is not installed: `apt-get install pgbouncer` (Debian/Ubuntu; `make pgbouncer` does it as root), "
    "or set ROLEGATE_PGBOUNCER_BIN to its path"
)


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def find_bindir() -> Path:
    """The directory of initdb and pg_ctl, or skip (fail under CI=true)."""
    candidates: list[Path] = []
    if os.environ.get("ROLEGATE_PG_BIN"):
        candidates.append(Path(os.environ["ROLEGATE_PG_BIN"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            candidates.append(Path(out))
    candidates.extend(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True))
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    if _on_ci():
        pytest.fail(f"CI=true: the fault tests may not be skipped: {INSTALL_HINT}", pytrace=False)
    pytest.skip(INSTALL_HINT)


PGBOUNCER_PATHS = ["/usr/sbin/pgbouncer"]
"""Where Debian's package puts it (/usr/sbin is not on every user's PATH)."""


def find_pgbouncer() -> Path:
    """The pgbouncer executable, or skip (fail under CI=true)."""
    candidates = [os.environ.get("ROLEGATE_PGBOUNCER_BIN"), shutil.which("pgbouncer"), *PGBOUNCER_PATHS]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    if _on_ci():
        pytest.fail(f"CI=true: the PgBouncer tests may not be skipped: {PGBOUNCER_HINT}", pytrace=False)
    pytest.skip(PGBOUNCER_HINT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PgCluster:
    def __init__(self, bindir: Path, *, options: str = "") -> None:
        self.bindir = bindir
        self.options = options
        """More `-c name=value` server options."""
        self.root = Path(tempfile.mkdtemp(prefix="rolegate-fault-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no `postgres` user to run initdb and postgres as (initdb refuses root)")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    @classmethod
    def replica_of(cls, primary: PgCluster) -> PgCluster:
        """A hot-standby streaming replica of `primary`, started: a base backup with
        `-R` (standby.signal and primary_conninfo written for it)."""
        replica = cls(primary.bindir, options="-c hot_standby=on")
        replica._run(
            str(primary.bindir / "pg_basebackup"), "-D", str(replica.data), "-h", "127.0.0.1", "-p", str(primary.port),
            "-U", "postgres", "-X", "stream", "-R", "--no-sync", "--checkpoint=fast",
        )  # fmt: skip
        replica.start()
        return replica

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/rolegate"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 60) -> None:
        done = subprocess.run([*self._as, *argv], capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stdout}\n{done.stderr}")

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE rolegate")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60 {self.options}"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class PgBouncer:
    """PgBouncer in transaction mode in front of `cluster`'s `rolegate` database, on a
    free port: `url` goes through it. It reaches the server over the cluster's unix
    socket, so its server connections show no `client_addr` in pg_stat_activity and
    a direct (TCP) connection is told from a pooled one."""

    def __init__(self, cluster: PgCluster, executable: Path, *, pool_size: int = 4) -> None:
        self.cluster = cluster
        self.executable = executable
        self.port = _free_port()
        self.dir = cluster.root / "pgbouncer"
        self.pool_size = pool_size
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/rolegate"

    def start(self) -> None:
        self.dir.mkdir()
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"rolegate = host={self.cluster.root} port={self.cluster.port} dbname=rolegate user=postgres\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir / 'userlist.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {self.pool_size}\nmax_client_conn = 500\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\npidfile = {self.dir / 'pgbouncer.pid'}\n"
            "admin_users = postgres\n"
        )
        if self.cluster._as:
            user = pwd.getpwnam("postgres")
            for path in (self.dir, *self.dir.iterdir()):
                os.chown(path, user.pw_uid, user.pw_gid)
        self._proc = subprocess.Popen([*self.cluster._as, str(self.executable), str(self.dir / "pgbouncer.ini")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log = self.dir / "pgbouncer.log"
                raise RuntimeError(f"pgbouncer exited {self._proc.returncode}: {log.read_text() if log.exists() else ''}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("pgbouncer did not listen within 15 s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()  # runuser passes SIGTERM on to pgbouncer
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
