"""Two hub instances share the work; one is killed mid-stream and the other takes over its
partitions: every input yields exactly one partner output, and the shared audit log verifies.

The two ``hub up`` processes share what docs/operations.md ("Several hub instances") says
several instances must share: the consumer groups, one PostgreSQL database for the audit
store, the statistics store and the share ledger, one audit signing key and pseudonym secret;
each has a name of its own (``HUB_INSTANCE_ID``, in its routes' transactional ids and on its
in-doubt notes). The test runs both layouts of the data directory the docs describe: a data
directory each, as docker/compose.yaml runs its two containers, and one data directory for
both, as the docs recommend on one host (the SQLite ledgers are then shared too). Every topic
has four partitions (``HUB_TOPIC_PARTITIONS``) so that both instances get some of each
route's.

A few thousand mixed partner messages go in; once both instances have consumed some and part
of the outputs are out, the first instance is killed without warning. After the session
timeout the other one gets its partitions; the killed instance's open transactions are
aborted by Kafka after ``HUB_KAFKA_TRANSACTION_TIMEOUT_MS`` (set low here, with the broker
checking for them every second, so the test does not wait the default 30 s). None of the
outputs may be missing or there twice for a reader of committed messages, and ``hub audit
verify`` holds on the store both instances wrote.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

from hub.broker.local import LocalKafka
from tests.e2e.conftest import RunningHub, hub_env, run_hub
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.http import body_of
from tests.faults.inputs import mixed_inputs
from tests.faults.kafka import partner_outputs, send_all, wait_outputs
from tests.postgres import PostgresServer
from tests.support import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

INPUTS: Final = 3000
PARTITIONS: Final = 4
_CONSUMED: Final = re.compile(r"^hub_messages_consumed_total\{[^}]*\} (\S+)$", re.MULTILINE)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A fresh Apache Kafka that aborts timed-out transactions within a second of their
    timeout (its default check runs every 10 s)."""
    kafka = LocalKafka(
        tmp_path / "broker",
        overrides={"transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000"},
    )
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()


def consumed(port: int) -> float:
    """Messages a hub has consumed so far, over all its routes (its metrics endpoint)."""
    return sum(float(value) for value in _CONSUMED.findall(body_of(port, "/metrics")))


def wait_both_consumed(hubs: list[RunningHub], ports: list[int], timeout_s: float) -> list[float]:
    """What each hub has consumed, once each has consumed something or ``timeout_s`` ran out."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = [consumed(port) for port in ports]
        if all(counts) or time.monotonic() > deadline:
            return counts
        for hub in hubs:
            assert hub.process.poll() is None, hub.stderr()[-3000:]
        time.sleep(0.2)


@pytest.mark.parametrize("shared_data_dir", [False, True], ids=["own-data-dirs", "one-data-dir"])
def test_two_hubs_share_the_partitions_and_one_killed_loses_nothing(
    start_hub: StartHub,
    broker: LocalKafka,
    postgres: PostgresServer,
    tmp_path: Path,
    shared_data_dir: bool,
) -> None:
    data_dirs = (
        [tmp_path / "hub"] * 2 if shared_data_dir else [tmp_path / "hub-1", tmp_path / "hub-2"]
    )
    dsn = postgres.new_database()
    shared = hub_settings(
        data_dirs[0],
        broker.bootstrap,
        HUB_LOG_LEVEL="info",
        HUB_TOPIC_PARTITIONS=str(PARTITIONS),
        HUB_AUDIT_DSN=dsn,
        HUB_STATISTICS_DSN=dsn,
        HUB_SHARE_DSN=dsn,
        # One key signs the checkpoints of both, as docker/compose.yaml's secret does.
        HUB_AUDIT_SIGNING_KEY_FILE=str(data_dirs[0] / "audit-signing.key"),
        HUB_KAFKA_TRANSACTION_TIMEOUT_MS="5000",
    )
    ports = [free_port(), free_port()]
    hubs = []
    for index, (data_dir, port) in enumerate(zip(data_dirs, ports, strict=True), start=1):
        hub = start_hub(
            data_dir,
            **shared,
            HUB_INSTANCE_ID=f"hub-{index}",
            HUB_KAFKA_CLIENT_ID=f"paijathame-hub-{index}",
            HUB_METRICS_PORT=str(port),
        )
        hub.wait_ready()
        hubs.append(hub)
    inputs = mixed_inputs(INPUTS, uuid.uuid4().hex[:6].upper())

    asyncio.run(send_all(broker.bootstrap, inputs))
    before_kill = wait_both_consumed(hubs, ports, timeout_s=60)
    assert all(before_kill), f"each instance must consume some partitions: {before_kill}"
    at_kill = wait_outputs(broker.bootstrap, INPUTS // 4, timeout_s=40)
    hubs[0].process.send_signal(signal.SIGKILL)
    assert hubs[0].process.wait(10) == -signal.SIGKILL
    assert 0 < at_kill < INPUTS, "the kill must come in the middle of the stream"
    survivor_before = consumed(ports[1])

    wait_outputs(broker.bootstrap, INPUTS, timeout_s=60)
    survivor_after = consumed(ports[1])
    assert hubs[1].stop() == 0, hubs[1].stderr()[-3000:]
    assert survivor_after > survivor_before

    for topic, ids in partner_outputs(broker.bootstrap).items():
        expected = {i.expected_id for i in inputs if i.output_topic == topic}
        twice = sorted(i for i, n in ids.items() if n > 1)
        assert not twice, f"{topic}: {len(twice)} sent twice"
        assert set(ids) == expected, f"{topic}: {len(expected - set(ids))} missing"

    verified = run_hub("audit", "verify", env=hub_env(data_dirs[1], **shared), timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
