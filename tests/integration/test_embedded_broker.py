"""The embedded broker starts on a free loopback port and never outlives the hub."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hub.broker.embedded import EmbeddedBroker
from hub.errors import LocalBrokerError
from tests.support import alive, wait_dead

pytestmark = pytest.mark.integration


def test_start_listens_on_loopback_and_stop_leaves_no_process(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    bootstrap = broker.start()
    pid = broker.pid
    assert pid is not None
    try:
        assert bootstrap.startswith("127.0.0.1:")
        assert broker.is_running()
    finally:
        broker.stop()
    assert wait_dead(pid)
    assert not broker.is_running()
    broker.stop()  # twice is harmless


def test_port_already_taken_fails_with_a_clear_error(kafka_bootstrap: str, tmp_path: Path) -> None:
    taken = int(kafka_bootstrap.rsplit(":", 1)[1])
    broker = EmbeddedBroker(port=taken, log_path=tmp_path / "broker.log")
    with pytest.raises(LocalBrokerError, match=f"port {taken} .* already in use"):
        broker.start(timeout=10)
    assert not broker.is_running()


def test_broker_that_exits_while_starting_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALF_TANSU_BIN", "/bin/false")
    broker = EmbeddedBroker(log_path=tmp_path / "broker.log")
    with pytest.raises(LocalBrokerError, match="exited with code 1 while starting"):
        broker.start(timeout=10)
    assert not broker.is_running()


def test_broker_dies_with_a_hub_killed_by_sigkill(tmp_path: Path) -> None:
    script = (
        "from hub.broker.embedded import EmbeddedBroker\n"
        "import sys, time\n"
        "b = EmbeddedBroker()\n"
        "b.start()\n"
        "print(b.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert parent.stdout is not None
        broker_pid = int(parent.stdout.readline())
        assert alive(broker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_dead(broker_pid), "the broker outlived its SIGKILLed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
