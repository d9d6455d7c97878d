"""The local Apache Kafka: starts on loopback, keeps its records across restarts, never outlives
the hub, and says clearly why when it cannot start."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from hub.broker.kafka import KAFKA_VERSION, POM, default_jar_dir
from hub.broker.local import LocalKafka
from hub.core.errors import LocalBrokerError
from tests.integration.conftest import create_topic, read_topic
from tests.support import alive, wait_dead

pytestmark = pytest.mark.integration


def test_the_pom_pins_the_version_the_hub_names() -> None:
    pinned = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text(encoding="utf-8"))
    assert pinned is not None
    assert pinned.group(1) == KAFKA_VERSION
    assert default_jar_dir().name == f"kafka-{KAFKA_VERSION}"


async def _write_one(bootstrap: str, topic: str) -> None:
    await create_topic(bootstrap, topic, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"kept", key=b"k")
    finally:
        await producer.stop()


def test_records_survive_a_stop_and_a_start_on_the_same_data_dir(tmp_path: Path) -> None:
    first = LocalKafka(tmp_path)
    bootstrap = first.start()
    assert bootstrap.startswith("127.0.0.1:")
    try:
        asyncio.run(_write_one(bootstrap, "kept.topic"))
    finally:
        first.stop()
    log_dir = tmp_path / "kafka" / "logs"
    assert (log_dir / "meta.properties").is_file()
    cluster = (tmp_path / "kafka" / "cluster.id").read_text(encoding="ascii")

    second = LocalKafka(tmp_path)
    again = second.start()
    try:
        records = asyncio.run(read_topic(again, "kept.topic", until=lambda r: len(r) >= 1))
    finally:
        second.stop()
    assert [r.value for r in records] == [b"kept"]
    assert (tmp_path / "kafka" / "cluster.id").read_text(encoding="ascii") == cluster


def test_start_then_stop_leaves_no_process_and_stop_twice_is_harmless(tmp_path: Path) -> None:
    broker = LocalKafka(tmp_path)
    broker.start()
    pid = broker.pid
    assert pid is not None
    assert broker.is_running()
    broker.stop()
    assert wait_dead(pid)
    assert not broker.is_running()
    broker.stop()


def test_port_already_taken_fails_with_a_clear_error(kafka_bootstrap: str, tmp_path: Path) -> None:
    taken = int(kafka_bootstrap.rsplit(":", 1)[1])
    broker = LocalKafka(tmp_path, port=taken)
    with pytest.raises(LocalBrokerError, match=f"port {taken} .* already in use"):
        broker.start()
    assert not broker.is_running()


def test_a_setting_kafka_refuses_is_reported_in_one_line(tmp_path: Path) -> None:
    broker = LocalKafka(tmp_path, overrides={"num.network.threads": "0"})
    with pytest.raises(LocalBrokerError, match=r"formatting .* failed: .*num.network.threads") as e:
        broker.start()
    assert "StorageTool.scala" not in str(e.value)  # the cause, not the stack
    assert not broker.is_running()


def test_a_broker_that_exits_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    LocalKafka(tmp_path).cluster_id()
    formatted = LocalKafka(tmp_path)
    formatted.start()
    formatted.stop()
    # Formatted already, so the storage tool is not asked: the broker itself refuses.
    broker = LocalKafka(tmp_path, overrides={"num.network.threads": "0"})
    with pytest.raises(LocalBrokerError, match=r"exited with code 1 while starting \(see .*"):
        broker.start()
    assert not broker.is_running()
    assert "num.network.threads" in (tmp_path / "kafka" / "broker.log").read_text()


def test_missing_jars_name_the_folder_and_the_fix(tmp_path: Path) -> None:
    broker = LocalKafka(tmp_path, jar_dir=tmp_path / "no-jars")
    with pytest.raises(LocalBrokerError, match=r"not in .*no-jars: run `make kafka`"):
        broker.start()


def test_the_broker_dies_with_a_hub_killed_by_sigkill(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from hub.broker.local import LocalKafka\n"
        "b = LocalKafka(Path(sys.argv[1]))\n"
        "b.start()\n"
        "print(b.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
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
