"""Running the ``hub`` command as a separate process, as an administrator would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import alive, wait_dead

__all__ = ["RunningHub", "alive", "hub_env", "run_hub", "spawn_hub", "wait_dead"]

READY_PREFIX = "export HUB_KAFKA_BOOTSTRAP="


def hub_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the hub: no HUB_ variables but those given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update({"HUB_DATA_DIR": str(data_dir), "HUB_LOG_FORMAT": "json", "HUB_LOG_LEVEL": "debug"})
    env.update(extra)
    return env


def run_hub(
    *args: str, env: dict[str, str], stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one ``hub`` command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "hub", *args],
        env=env,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class RunningHub:
    """A ``hub up`` process and what it printed."""

    process: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    env: dict[str, str]
    bootstrap: str = ""
    broker_pid: int = 0

    def stdout(self) -> str:
        """Everything printed on stdout so far."""
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        """Everything logged on stderr so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, object]]:
        """The JSON log lines on stderr, complete ones only.

        The hub may be writing while this reads: a last line without its newline is not a
        record yet.
        """
        text = self.stderr()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Block until ``hub up`` announced its bootstrap; fail with its output otherwise."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.stdout().splitlines():
                if line.startswith(READY_PREFIX):
                    self.bootstrap = line.removeprefix(READY_PREFIX).strip()
                    started = [
                        r for r in self.log_records() if r["event"] == "local broker started"
                    ]
                    self.broker_pid = int(str(started[0]["pid"])) if started else 0
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"hub up did not become ready:\n{self.stdout()}\n{self.stderr()}")

    def stop(self, signum: int = signal.SIGINT, timeout_s: float = 30.0) -> int:
        """Send ``signum`` and wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout_s)


def spawn_hub(env: dict[str, str], out: Path, err: Path) -> RunningHub:
    """Start ``hub up`` with ``env``, its stdout and stderr going to ``out`` and ``err``."""
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub", "up"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    return RunningHub(process, out, err, env)


@pytest.fixture
def start_hub(tmp_path: Path) -> Iterator[object]:
    """Start ``hub up`` processes; every one is stopped (hard, if need be) after the test."""
    started: list[RunningHub] = []

    def start(data_dir: Path | None = None, **extra_env: str) -> RunningHub:
        index = len(started)
        data = data_dir or tmp_path / f"data{index}"
        env = hub_env(data, **extra_env)
        hub = spawn_hub(env, tmp_path / f"up{index}.out", tmp_path / f"up{index}.err")
        started.append(hub)
        return hub

    yield start
    for hub in started:
        if hub.process.poll() is None:
            hub.process.kill()
            hub.process.wait(10)
        if hub.broker_pid and alive(hub.broker_pid):
            os.kill(hub.broker_pid, signal.SIGKILL)
