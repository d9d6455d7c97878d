"""A three-node cluster loses the leader of a busy partition mid-stream: the hub carries on,
and every input yields exactly one partner output.

The cluster is as in production: three KRaft nodes, every topic (the hub's and Kafka's own)
with three replicas and two in sync needed for a write. The hub runs as a separate process
with all three nodes as its bootstrap. Half of a stream of mixed partner messages is sent;
once part of the outputs are out, the node leading the busiest inbound or canonical partition
is killed without warning, and the other half is sent while the cluster fails over. Nothing
is restarted: the hub must go on with two nodes, none of its outputs missing or doubled, as a
partner reading committed messages sees them, and its audit chains must verify.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from aiokafka import TopicPartition

from hub.broker.connection import KafkaConnection
from hub.broker.watch import probe
from hub.core.settings import load_settings
from hub.core.topics import TOPICS, TopicKind
from tests.cluster import KafkaCluster, partition_states
from tests.e2e.conftest import hub_env, run_hub
from tests.faults.conftest import StartHub, hub_settings
from tests.faults.inputs import mixed_inputs
from tests.faults.kafka import end_offsets, partner_outputs, send_all, wait_outputs

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

INPUTS = 600
#: Readiness probes right after the kill (each met the dead node one time in three).
PROBES = 12
#: Where the stream flows before it reaches a partner: a leader of one of these is "busy".
_UPSTREAM = [spec.name for spec in TOPICS if spec.kind in {TopicKind.INBOUND, TopicKind.CANONICAL}]


def _busiest(bootstrap: str) -> tuple[TopicPartition, int]:
    """The inbound or canonical partition holding the most records, and its leader."""
    ends = asyncio.run(end_offsets(bootstrap, _UPSTREAM))
    busiest = max(ends, key=lambda tp: ends[tp])
    states = asyncio.run(partition_states(bootstrap, [busiest.topic]))
    return busiest, states[busiest.topic, busiest.partition].leader


def test_the_leader_of_a_busy_partition_dies_and_no_output_is_lost_or_doubled(
    start_hub: StartHub, cluster: KafkaCluster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    settings = hub_settings(
        data_dir,
        cluster.bootstrap,
        HUB_LOG_LEVEL="info",
        HUB_TOPIC_REPLICATION_FACTOR="3",
    )
    inputs = mixed_inputs(INPUTS, uuid.uuid4().hex[:6].upper())
    before, during = inputs[: INPUTS // 2], inputs[INPUTS // 2 :]

    hub = start_hub(data_dir, **settings)
    hub.wait_ready()
    states = asyncio.run(partition_states(cluster.bootstrap, [s.name for s in TOPICS]))
    assert {len(s.replicas) for s in states.values()} == {3}, "every topic on all three nodes"

    asyncio.run(send_all(cluster.bootstrap, before))
    at_kill = wait_outputs(cluster.bootstrap, INPUTS // 6, 60, "read_committed")
    partition, victim = _busiest(cluster.bootstrap)
    cluster.kill(victim)
    assert 0 < at_kill < len(before), "the kill must come in the middle of the stream"
    # Until the controller fences it (seconds), the dead node is still in the cluster's
    # metadata; the cluster answers all the same, and the hub's readiness probe must say so.
    connection = KafkaConnection(
        cluster.bootstrap, load_settings(kafka_bootstrap=cluster.bootstrap)
    )
    for _ in range(PROBES):
        asyncio.run(probe(connection))

    survivors = ",".join(cluster.address(n) for n in cluster.running())
    asyncio.run(send_all(survivors, during))
    wait_outputs(survivors, INPUTS, 120, "read_committed")
    assert hub.process.poll() is None, f"the hub died with node {victim}:\n{hub.stderr()[-3000:]}"
    moved = asyncio.run(partition_states(survivors, [partition.topic]))
    assert moved[partition.topic, partition.partition].leader != victim, "a survivor leads"
    assert hub.stop() == 0

    for topic, ids in partner_outputs(survivors, "read_committed").items():
        expected = {i.expected_id for i in inputs if i.output_topic == topic}
        twice = sorted(i for i, n in ids.items() if n > 1)
        assert not twice, f"{topic}: {len(twice)} sent twice (node {victim} led {partition})"
        missing = expected - set(ids)
        assert not missing, f"{topic}: {len(missing)} missing (node {victim} led {partition})"
        assert set(ids) == expected, f"{topic}: outputs nobody asked for"

    verified = run_hub("audit", "verify", env=hub_env(data_dir, **settings), timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr
