"""Fault injection: the hub as a separate process against a broker the test owns.

Unlike ``hub up`` on its own local broker, the broker here (one node, or a three-node cluster)
belongs to the test process, so a test can kill the hub (and the broker stays), or stop or kill
a broker (and the hub stays).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hub.audit.signing import load_or_create_signing_key
from hub.broker.local import LocalKafka
from tests.cluster import KafkaCluster, kafka_cluster
from tests.e2e.conftest import RunningHub, start_hub

__all__ = ["SECRET", "StartHub", "hub_settings", "start_hub"]

SECRET = "faults-pseudonym-secret-0123456789abcdef"

StartHub = Callable[..., RunningHub]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A fresh Apache Kafka of the test's own (logs under tmp_path/broker), always stopped."""
    kafka = LocalKafka(tmp_path / "broker")
    kafka.start()
    try:
        yield kafka
    finally:
        kafka.stop()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[KafkaCluster]:
    """A fresh three-node Apache Kafka cluster (KRaft, three replicas, two in sync for a
    write) of the test's own, always stopped."""
    with kafka_cluster(tmp_path / "cluster") as running:
        yield running


def hub_settings(data_dir: Path, bootstrap: str, **extra: str) -> dict[str, str]:
    """Environment for a hub on ``bootstrap`` (a "real cluster" to the hub: key made here)."""
    load_or_create_signing_key(None, data_dir, may_generate=True)
    return {
        "HUB_KAFKA_BOOTSTRAP": bootstrap,
        "HUB_PSEUDONYM_SECRET": SECRET,
        "HUB_KAFKA_SESSION_TIMEOUT_MS": "6000",
        **extra,
    }
