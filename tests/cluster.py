"""A three-node Apache Kafka cluster (KRaft) on loopback, started by a test from the pinned jars.

Each node is broker and controller in one JVM; the three form the controller quorum. Topics
the hub creates get three replicas and need two in sync to take a write, as on a production
cluster: one node may die and nothing acknowledged is lost, nor does writing stop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from aiokafka.admin import AIOKafkaAdminClient

from hub.broker.kafka import default_jar_dir
from hub.broker.kafka.node import KafkaNode, new_cluster_id
from hub.broker.local import find_free_port, single_node_properties

__all__ = [
    "KafkaCluster",
    "PartitionState",
    "cluster_properties",
    "kafka_cluster",
    "partition_states",
]

HOST: Final = "127.0.0.1"
NODES: Final = 3


def cluster_properties(
    node_id: int, port: int, controller_port: int, voters: Mapping[int, int]
) -> dict[str, str]:
    """``server.properties`` of node ``node_id`` of a cluster whose controllers listen on
    ``voters`` (node id to controller port).

    Three replicas of every topic, the internal ones too, and two in sync for a write
    (``acks=all``) to succeed; otherwise as the single local node (no delay before a group's
    first rebalance, sessions from one second, no topics created by a client asking for them).
    """
    return {
        **single_node_properties(HOST, port, controller_port),
        "node.id": str(node_id),
        "controller.quorum.voters": ",".join(f"{n}@{HOST}:{p}" for n, p in voters.items()),
        "default.replication.factor": str(NODES),
        "min.insync.replicas": "2",
        "offsets.topic.replication.factor": str(NODES),
        "transaction.state.log.replication.factor": str(NODES),
        "transaction.state.log.min.isr": "2",
    }


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = find_free_port(HOST)
        if port not in ports:
            ports.append(port)
    return ports


@dataclass
class KafkaCluster:
    """Three KRaft nodes (ids 1, 2, 3) in ``directory``/node-<id>."""

    directory: Path
    jar_dir: Path = field(default_factory=default_jar_dir)
    heap: str = "512m"
    #: Only the quick JIT compiler: three JVMs warming up at once on two cores took about
    #: twice as long to form a quorum with the optimising one, which a test never repays.
    jvm_options: tuple[str, ...] = ("-XX:TieredStopAtLevel=1",)
    nodes: dict[int, KafkaNode] = field(default_factory=dict, init=False)
    ports: dict[int, int] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        numbers = _distinct_free_ports(2 * NODES)
        ids = range(1, NODES + 1)
        self.ports = dict(zip(ids, numbers[:NODES], strict=True))
        voters = dict(zip(ids, numbers[NODES:], strict=True))
        cluster_id = new_cluster_id()
        for node_id in ids:
            properties = cluster_properties(node_id, self.ports[node_id], voters[node_id], voters)
            self.nodes[node_id] = KafkaNode(
                self.directory / f"node-{node_id}",
                properties,
                cluster_id,
                self.jar_dir,
                jvm_options=self.jvm_options,
                heap=self.heap,
            )

    @property
    def bootstrap(self) -> str:
        """Every node's client address, as a client configured for the cluster lists them."""
        return ",".join(self.address(node_id) for node_id in self.nodes)

    def address(self, node_id: int) -> str:
        """The ``host:port`` clients reach node ``node_id`` on."""
        return f"{HOST}:{self.ports[node_id]}"

    def start(self, timeout: float = 120.0) -> None:
        """Start every node that is not running and block until all serve clients.

        A node only finishes starting once the controller quorum has a majority, so the nodes
        are launched together, then waited for. Their log directories are formatted in
        parallel first (each a JVM of its own); the launches themselves run from this thread.
        """
        waiting = [node for node in self.nodes.values() if not node.is_running()]
        with ThreadPoolExecutor(len(self.nodes)) as preparing:
            list(preparing.map(KafkaNode.prepare, waiting))
        for node in waiting:
            node.launch()
        for node in waiting:
            node.wait_started(timeout)

    def stop(self) -> None:
        """Stop every node (a controlled shutdown each); safe twice.

        All at once: one by one, the last node would wait in vain for a quorum to shut down
        under, until it is killed.
        """
        with ThreadPoolExecutor(len(self.nodes)) as stopping:
            list(stopping.map(KafkaNode.stop, self.nodes.values()))

    def kill(self, node_id: int) -> None:
        """Kill node ``node_id`` at once (SIGKILL), as a crash or a pulled plug would."""
        self.nodes[node_id].kill()

    def running(self) -> list[int]:
        """The ids of the nodes running now."""
        return [node_id for node_id, node in self.nodes.items() if node.is_running()]


@dataclass(frozen=True)
class PartitionState:
    """Who leads a partition, who holds it, who is in sync, as the cluster says now."""

    leader: int
    replicas: tuple[int, ...]
    in_sync: tuple[int, ...]


async def partition_states(
    bootstrap: str, topics: list[str]
) -> dict[tuple[str, int], PartitionState]:
    """The state of every partition of ``topics`` (by topic and partition)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {
        (str(topic["topic"]), int(partition["partition"])): PartitionState(
            int(partition["leader"]),
            tuple(int(n) for n in partition["replicas"]),
            tuple(int(n) for n in partition["isr"]),
        )
        for topic in described
        for partition in topic["partitions"]
    }


@contextlib.contextmanager
def kafka_cluster(directory: Path, timeout: float = 120.0) -> Iterator[KafkaCluster]:
    """A running three-node cluster for the duration of a ``with`` block; always stopped."""
    cluster = KafkaCluster(directory)
    try:
        cluster.start(timeout)
        yield cluster
    finally:
        cluster.stop()
