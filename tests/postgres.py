"""A real PostgreSQL for the tests: Debian's server binaries, a throwaway cluster on loopback.

``make test`` installs Debian's ``postgresql`` package when it is missing (see
``.ci/ensure-postgresql``); this module starts a private cluster in a temporary folder on a
free port, owned by the ``postgres`` user when the tests run as root (PostgreSQL refuses to
run as root), and stops it at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support import free_port

__all__ = ["PostgresServer", "postgres_server"]


def _bin_dir() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if not candidates:
        raise RuntimeError(
            "Debian's PostgreSQL server is not installed: run `make test` (it installs it) or "
            "`apt-get install postgresql`"
        )
    return candidates[0].parent


@dataclass
class PostgresServer:
    """A running throwaway cluster."""

    port: int
    data: Path
    as_user: list[str]
    bin_dir: Path

    @property
    def admin_dsn(self) -> str:
        """The maintenance database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A fresh, empty database; its DSN."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        """Stop the cluster at once and remove its files."""
        subprocess.run(
            [*self.as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m",
             "immediate", "stop"],
            capture_output=True, check=False, timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.data.parent, ignore_errors=True)


def _run(command: list[str], timeout: float) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr[-2000:]}")


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a cluster in a temporary folder; stop it and remove the folder afterwards.

    Not under pytest's temporary folder: that one is private to root, and the server runs as
    ``postgres``.
    """
    bin_dir = _bin_dir()
    root = os.geteuid() == 0
    as_user = ["runuser", "-u", "postgres", "--"] if root else []
    home = Path(tempfile.mkdtemp(prefix="hub-test-pg-"))
    data, sockets = home / "data", home / "sockets"
    sockets.mkdir()
    if root:
        shutil.chown(home, "postgres")
        shutil.chown(sockets, "postgres")
    _run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
         "--no-sync", "-E", "UTF8"],
        timeout=120,
    )  # fmt: skip
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=200"
    _run(
        [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
         str(home / "server.log"), "-w", "-t", "60", "start"],
        timeout=90,
    )  # fmt: skip
    server = PostgresServer(port, data, as_user, bin_dir)
    try:
        yield server
    finally:
        server.stop()
