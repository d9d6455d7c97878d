"""One Apache Kafka node (KRaft, broker and controller in one process) run as a child process.

The node's folder holds its ``server.properties``, its logging configuration, its log
directory and ``broker.log``. The log directory is formatted once (``kafka-storage format``);
after that the node starts on what it holds, so topics and records survive a restart.

The process gets its own process group and, on Linux, is told by the kernel to die with its
parent (``PR_SET_PDEATHSIG``), so even a ``SIGKILL`` of the hub leaves no broker behind.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from hub.broker.kafka import java_command
from hub.core.errors import LocalBrokerError
from hub.core.private_files import private_directory

__all__ = ["KafkaNode", "new_cluster_id"]

_PR_SET_PDEATHSIG: Final = 1
#: KafkaRaftServer logs this once the node serves clients.
STARTED: Final = b"Kafka Server started"
_LOG4J2: Final = """\
status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = OUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def new_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding, as Kafka's own."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not text.startswith("-"):  # would read as an option on the storage tool's line
            return text


def _die_with_parent() -> None:
    """Run in the child between fork and exec: new process group, die when the hub dies."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _cause(output: str) -> str:
    """The lines of a Java tool's output that say what went wrong: no stack frames, no SLF4J
    chatter."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.strip() and not line.startswith(("\tat ", "\t... ", "SLF4J")) and line[:3] != "at "
    ]
    return " | ".join(lines[-2:]) or "no output"


def _render(properties: Mapping[str, str]) -> str:
    return "".join(f"{key}={value}\n" for key, value in properties.items())


@dataclass
class KafkaNode:
    """A Kafka node: its folder, its ``server.properties`` (``log.dirs`` is set here) and the
    cluster it belongs to.

    ``format_args`` go to the storage tool on the first start (``--add-scram`` users, say);
    ``jvm_options`` to the JVM (a JAAS file, say).
    """

    directory: Path
    properties: Mapping[str, str]
    cluster_id: str
    jar_dir: Path
    format_args: Sequence[str] = ()
    jvm_options: tuple[str, ...] = ()
    heap: str = "1g"
    log_level: str = "WARN"
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log_file: IO[bytes] | None = field(default=None, init=False, repr=False)
    _log_start: int = field(default=0, init=False, repr=False)

    @property
    def log_dir(self) -> Path:
        """Where the node keeps its topics."""
        return self.directory / "logs"

    @property
    def log_path(self) -> Path:
        """The node's own log (stdout and stderr of the JVM)."""
        return self.directory / "broker.log"

    @property
    def config_path(self) -> Path:
        """The ``server.properties`` the node runs with."""
        return self.directory / "server.properties"

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs."""
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        """True while the node's process is alive."""
        return self._process is not None and self._process.poll() is None

    def __post_init__(self) -> None:
        # The JVM runs in this folder: relative paths would be read from inside it.
        self.directory = self.directory.resolve()

    def _write_configuration(self) -> None:
        # The log directory holds every record: identity codes included.
        private_directory(self.directory)
        properties = {**self.properties, "log.dirs": str(self.log_dir)}
        self.config_path.write_text(_render(properties), encoding="utf-8")
        (self.directory / "log4j2.properties").write_text(
            _LOG4J2.format(level=self.log_level.upper()), encoding="utf-8"
        )

    def _format_once(self) -> None:
        if (self.log_dir / "meta.properties").exists():
            return
        command = java_command(
            self.jar_dir,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            self.cluster_id,
            "--config",
            str(self.config_path),
            "--ignore-formatted",
            *self.format_args,
            jvm_options=self._jvm_options(),
        )
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            cause = _cause(result.stdout + result.stderr)
            raise LocalBrokerError(f"formatting the Kafka log directory failed: {cause}")

    def _jvm_options(self) -> tuple[str, ...]:
        return (
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.directory / 'log4j2.properties'}",
            *self.jvm_options,
        )

    def start(self, timeout: float = 60.0) -> None:
        """Format the log directory if new, start the node and block until it serves clients."""
        if self.is_running():
            return
        self.launch()
        self.wait_started(timeout)

    def prepare(self) -> None:
        """Write the node's configuration and format its log directory if new (a JVM run of
        its own, safe to run for several nodes at once)."""
        self._write_configuration()
        self._format_once()

    def launch(self) -> None:
        """Prepare the node and start it without waiting for it to serve clients.

        The nodes of a multi-node quorum only finish starting once a majority of them runs:
        launch each (from one thread: the child is set up between fork and exec), then wait.
        """
        self.prepare()
        command = java_command(
            self.jar_dir, "kafka.Kafka", str(self.config_path), jvm_options=self._jvm_options()
        )
        self._log_file = self.log_path.open("ab")
        # This start's lines: "started" from an earlier run of the same folder does not count.
        self._log_start = self._log_file.tell()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - single-threaded here; PDEATHSIG.
                cwd=self.directory,
            )
        except OSError as exc:
            self._close_log()
            raise LocalBrokerError(f"could not start Apache Kafka: {exc}") from exc

    def wait_started(self, timeout: float = 60.0) -> None:
        """Block until the launched node serves clients; stop it and raise
        ``LocalBrokerError`` if it exits or takes longer than ``timeout``."""
        try:
            self._wait_until_started(timeout)
        except LocalBrokerError:
            self.stop()
            raise

    def _wait_until_started(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None:
                raise LocalBrokerError("Apache Kafka was not launched")
            with self.log_path.open("rb") as log:
                log.seek(self._log_start)
                if STARTED in log.read():
                    return
            if self._process.poll() is not None:
                raise LocalBrokerError(
                    f"Apache Kafka exited with code {self._process.returncode} while starting "
                    f"(see {self.log_path})"
                )
            time.sleep(0.05)
        raise LocalBrokerError(
            f"Apache Kafka did not start within {timeout:.0f} s (see {self.log_path})"
        )

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the node (SIGTERM: a controlled shutdown, then SIGKILL) and reap it; safe twice."""
        self._signal_and_reap(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill the node at once (SIGKILL), as a crash or a pulled plug would."""
        self._signal_and_reap(signal.SIGKILL, 10.0)

    def _signal_and_reap(self, signum: int, timeout: float) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
        elif process is not None:
            process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
