"""The local broker ``hub up`` starts when no Kafka is configured: single-node Apache Kafka.

This is the only module ``hub up`` asks for a broker of its own. Everything else receives a
bootstrap address (``host:port``), so pointing the hub at a real cluster is a configuration
change, never a code change.

The node runs in KRaft mode (broker and controller in one JVM) on free loopback ports, with
its log directory in ``<data dir>/kafka``: topics, records, consumer offsets and producer
state survive a restart of ``hub up``. The cluster id is chosen on the first start and kept
there too.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from hub.broker.kafka import default_jar_dir
from hub.broker.kafka.node import KafkaNode, new_cluster_id
from hub.core.errors import LocalBrokerError
from hub.core.private_files import private_directory

__all__ = ["LocalKafka", "find_free_port", "single_node_properties"]

_CLUSTER_ID_FILE: Final = "cluster.id"


def find_free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a free TCP port on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As Kafka's acceptor binds: a stopped broker's connections lingering in TIME_WAIT must
        # not make its own port look taken when it starts again.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def single_node_properties(host: str, port: int, controller_port: int) -> dict[str, str]:
    """``server.properties`` of a one-node KRaft cluster on ``host`` (PLAINTEXT clients).

    Internal topics have one replica (there is one node); a consumer group's first join is not
    delayed; sessions may be as short as a second (tests and a developer's restarts); topics
    are never created by a client asking for them (the hub provisions its own).
    """
    return {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{host}:{controller_port}",
        "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "10",
        "group.initial.rebalance.delay.ms": "0",
        "group.min.session.timeout.ms": "1000",
        "auto.create.topics.enable": "false",
    }


@dataclass
class LocalKafka:
    """A single-node Apache Kafka whose state lives in ``data_dir/kafka``.

    ``overrides`` are added to (or replace) the node's ``server.properties``.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    jar_dir: Path = field(default_factory=default_jar_dir)
    overrides: Mapping[str, str] = field(default_factory=dict)
    heap: str = "1g"
    _node: KafkaNode | None = field(default=None, init=False, repr=False)

    @property
    def directory(self) -> Path:
        """The node's folder: configuration, log directory and ``broker.log``."""
        return self.data_dir / "kafka"

    @property
    def bootstrap(self) -> str:
        """The ``host:port`` address clients connect to."""
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        """The broker's own log."""
        return self.directory / "broker.log"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._node.pid if self._node is not None else None

    def cluster_id(self) -> str:
        """The cluster id of this data directory (chosen and kept on first use)."""
        path = self.directory / _CLUSTER_ID_FILE
        with contextlib.suppress(FileNotFoundError):
            return path.read_text(encoding="ascii").strip()
        private_directory(self.data_dir)
        private_directory(self.directory)
        cluster_id = new_cluster_id()
        path.write_text(cluster_id + "\n", encoding="ascii")
        return cluster_id

    def start(self, timeout: float = 60.0) -> str:
        """Start the broker and block until it serves clients; return the bootstrap."""
        if self._node is not None and self._node.is_running():
            return self.bootstrap
        if self.port == 0:
            self.port = find_free_port(self.host)
        elif not _port_is_free(self.host, self.port):
            raise LocalBrokerError(f"port {self.port} on {self.host} is already in use")
        controller_port = find_free_port(self.host)
        properties = {
            **single_node_properties(self.host, self.port, controller_port),
            **self.overrides,
        }
        self._node = KafkaNode(
            self.directory, properties, self.cluster_id(), self.jar_dir, heap=self.heap
        )
        self._node.start(timeout)
        return self.bootstrap

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the broker cleanly (its logs stay); safe to call twice."""
        if self._node is not None:
            self._node.stop(timeout)

    def kill(self) -> None:
        """Kill the broker at once (SIGKILL); its logs stay as a crash leaves them."""
        if self._node is not None:
            self._node.kill()

    def is_running(self) -> bool:
        """True while the broker process is alive."""
        return self._node is not None and self._node.is_running()
