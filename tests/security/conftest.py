"""The production Kafka cluster of docker/, run on this machine without a container engine.

Everything comes from the deployment's own files: the secrets from docker/secrets/generate.sh,
the certificates from docker/certs/generate.sh, each node's configuration and SCRAM users from
docker/kafka/start-node.sh, the nodes' secrets and the hub's ``HUB_*`` settings from
docker/compose.yaml. Only what a container gives differs: host names become ``localhost``, the
fixed ports free loopback ports, the mounted folders temporary ones, and ``/opt/kafka/bin``
two small scripts that run the same Kafka classes from the project's pinned jars.

The cluster has three nodes, as in compose (the quorum over mutual TLS, replication between
brokers as ``admin`` over SCRAM); the ACLs are applied by the compose ``acls`` job's command.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hub.broker.kafka import default_jar_dir, java_command
from hub.broker.kafka.node import STARTED, new_cluster_id
from hub.broker.local import find_free_port
from tests.deploy.conftest import DOCKER, hub_environment, load_compose
from tests.e2e.conftest import RunningHub, hub_env, run_hub, spawn_hub

__all__ = ["NODES", "SecureCluster", "error_lines"]

HOST = "localhost"  # in every node certificate's SAN (docker/certs/generate.sh)
NODES = ("kafka-1", "kafka-2", "kafka-3")
#: Kafka's JVM per node: enough for a test cluster of a few hundred partitions.
HEAP = "-Xms128m -Xmx384m"
#: Three JVMs start on two cores: the quick compiler alone and one GC thread start them sooner.
JVM_PERFORMANCE = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
START_TIMEOUT_S = 120.0

_LOG4J2 = """\
status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def _kafka_home(folder: Path) -> Path:
    """``bin/kafka-storage.sh`` and ``bin/kafka-server-start.sh`` as the image has them, on
    the pinned jars: start-node.sh calls them with the image's arguments."""
    (folder / "bin").mkdir(parents=True)
    log4j = folder / "log4j2.properties"
    log4j.write_text(_LOG4J2, encoding="utf-8")
    options = (f"-Dlog4j2.configurationFile={log4j}",)
    for script, main_class in (
        ("kafka-storage.sh", "kafka.tools.StorageTool"),
        ("kafka-server-start.sh", "kafka.Kafka"),
    ):
        java, *rest = java_command(default_jar_dir(), main_class, jvm_options=options)
        # Unquoted, as Kafka's own kafka-run-class.sh splits them.
        from_environment = "$KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS"
        line = f'exec {shlex.quote(java)} {from_environment} {shlex.join(rest)} "$@"'
        path = folder / "bin" / script
        path.write_text(f"#!/bin/sh\n{line}\n", encoding="utf-8")
        path.chmod(0o755)
    return folder


def _sh(script: Path, env: dict[str, str], timeout: float = 300) -> None:
    result = subprocess.run(
        ["/bin/sh", str(script)], env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"{script} failed:\n{result.stdout}\n{result.stderr}"


def error_lines(stderr: str) -> list[str]:
    """stderr without the JSON log records: what a person reads."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]


@dataclass
class SecureCluster:
    """The running cluster and the files a client of it needs."""

    root: Path
    secrets: Path
    certs: Path
    internal: str  # the INTERNAL listeners: the hub and its jobs
    external: str  # the EXTERNAL listeners: partners
    nodes: tuple[subprocess.Popen[bytes], ...]
    #: What the compose jobs printed: ``acls`` (as admin) and ``topics`` (as hub).
    job_output: dict[str, str] = field(default_factory=dict)

    @property
    def ca_file(self) -> Path:
        """The CA certificate clients trust (``ca.pem``)."""
        return self.certs / "ca.pem"

    def config(self, node: str) -> Path:
        """The ``server.properties`` start-node.sh wrote for ``node``."""
        return self.root / node / "etc" / "server.properties"

    def password(self, user: str) -> str:
        """The SCRAM password of ``user`` as the secrets script made it."""
        name = "kafka_admin_password" if user == "admin" else f"{user}_kafka_password"
        return (self.secrets / name).read_text(encoding="utf-8").strip()

    def client_kwargs(self, user: str, *, bootstrap: str | None = None) -> dict[str, Any]:
        """aiokafka arguments for ``user`` over SASL_SSL (partners: the EXTERNAL listeners)."""
        return {
            "bootstrap_servers": bootstrap or self.external,
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": user,
            "sasl_plain_password": self.password(user),
            "ssl_context": ssl.create_default_context(cafile=str(self.ca_file)),
            "client_id": f"test-{user}",
        }

    def hub_env(self, service: str, data_dir: Path, **extra: str) -> dict[str, str]:
        """The ``HUB_*`` variables compose gives ``service``, with its mounts and host names
        mapped to this machine; the audit store is SQLite in the data directory."""
        mounts = {
            "/run/secrets/": self.secrets,
            "/etc/paijathame/certs/": self.certs,
        }
        environment: dict[str, str] = {}
        for key, value in hub_environment(load_compose()["services"][service]).items():
            for prefix, folder in mounts.items():
                if value.startswith(prefix):
                    value = str(folder / value.removeprefix(prefix))  # noqa: PLW2901
            environment[key] = value
        environment["HUB_KAFKA_BOOTSTRAP"] = self.internal
        # The stores compose puts in its PostgreSQL: SQLite in the data directory here.
        for dsn in ("HUB_AUDIT_DSN", "HUB_STATISTICS_DSN", "HUB_SHARE_DSN"):
            environment.pop(dsn, None)
        environment.pop("HUB_METRICS_PORT", None)
        environment.pop("HUB_METRICS_HOST", None)
        environment.pop("HUB_DATA_DIR")
        return hub_env(data_dir, **{**environment, **extra})


def _node_env(
    cluster_id: str, node: str, ports: dict[str, int], voters: str, folders: dict[str, Path]
) -> dict[str, str]:
    service = load_compose()["services"][node]
    environment = {str(k): str(v) for k, v in service["environment"].items()}
    environment.update(
        CLUSTER_ID=cluster_id,
        EXTERNAL_HOST=HOST,
        EXTERNAL_PORT=str(ports["external"]),
        KAFKA_HEAP_OPTS=HEAP,
        KAFKA_JVM_PERFORMANCE_OPTS=JVM_PERFORMANCE,
        NODE_HOST=HOST,
        LISTEN_HOST="127.0.0.1",
        INTERNAL_PORT=str(ports["internal"]),
        CONTROLLER_PORT=str(ports["controller"]),
        EXTERNAL_LISTEN_PORT=str(ports["external"]),
        QUORUM_VOTERS=voters,
        SECRETS=str(folders["secrets"]),
        CERTS=str(folders["certs"]),
        CONFIG_DIR=str(folders["config"]),
        DATA_DIR=str(folders["data"]),
        KAFKA_HOME=str(folders["kafka_home"]),
    )
    return {"PATH": os.environ["PATH"], **environment}


def _node_secrets(secrets: Path, folder: Path, node: str) -> Path:
    """Only the secrets compose mounts into ``node``, as /run/secrets holds them."""
    folder.mkdir()
    for name in load_compose()["services"][node]["secrets"]:
        shutil.copy(secrets / name, folder / name)
    return folder


def _wait_started(logs: list[Path], nodes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    pending = set(range(len(nodes)))
    while pending and time.monotonic() < deadline:
        for index in sorted(pending):
            if STARTED in logs[index].read_bytes():
                pending.discard(index)
            elif nodes[index].poll() is not None:
                pytest.fail(f"{NODES[index]} exited:\n{logs[index].read_text(errors='replace')}")
        time.sleep(0.1)
    if pending:
        tails = "\n".join(logs[i].read_text(errors="replace")[-3000:] for i in pending)
        pytest.fail(f"nodes {sorted(NODES[i] for i in pending)} did not start:\n{tails}")


def _stop(nodes: list[subprocess.Popen[bytes]]) -> None:
    for process in nodes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
    for process in nodes:
        process.wait(30)


@pytest.fixture(scope="package")
def secure_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureCluster]:
    """Three nodes from docker/'s files with the generated ACLs applied, for the package."""
    root = tmp_path_factory.mktemp("secure-cluster")
    secrets = root / "docker" / "secrets"
    secrets.mkdir(parents=True)
    shutil.copy(DOCKER / "secrets" / "generate.sh", secrets)
    _sh(secrets / "generate.sh", {"PATH": os.environ["PATH"]})
    certs = root / "certs"
    _sh(
        DOCKER / "certs" / "generate.sh",
        {
            "PATH": os.environ["PATH"],
            "OUT": str(certs),
            "EXTERNAL_HOST": HOST,
            "STORE_PASSWORD_FILE": str(secrets / "kafka_keystore_password"),
            # keytool runs 17 times: a JVM that starts fast halves the wait.
            "JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        },
    )
    kafka_home = _kafka_home(root / "kafka-home")
    ports = [
        {name: find_free_port() for name in ("internal", "controller", "external")} for _ in NODES
    ]
    voters = ",".join(f"{i}@{HOST}:{p['controller']}" for i, p in enumerate(ports, start=1))
    cluster_id = new_cluster_id()
    nodes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    try:
        for node, node_ports in zip(NODES, ports, strict=True):
            folder = root / node
            config = folder / "etc"
            config.mkdir(parents=True)
            folders = {
                "secrets": _node_secrets(secrets, folder / "secrets", node),
                "certs": certs,
                "config": config,
                "data": folder / "data",
                "kafka_home": kafka_home,
            }
            log = folder / "node.log"
            logs.append(log)
            with log.open("wb") as output:
                nodes.append(
                    subprocess.Popen(
                        ["/bin/sh", str(DOCKER / "kafka" / "start-node.sh")],
                        env=_node_env(cluster_id, node, node_ports, voters, folders),
                        stdin=subprocess.DEVNULL,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        _wait_started(logs, nodes)
        cluster = SecureCluster(
            root=root,
            secrets=secrets,
            certs=certs,
            internal=",".join(f"{HOST}:{p['internal']}" for p in ports),
            external=",".join(f"{HOST}:{p['external']}" for p in ports),
            nodes=tuple(nodes),
        )
        # The compose jobs, in compose's order: the ACLs as admin, then the topics as hub.
        for job in ("acls", "topics"):
            command = load_compose()["services"][job]["command"]
            done = run_hub(*command, env=cluster.hub_env(job, root / f"{job}-data"), timeout=120)
            assert done.returncode == 0, f"the {job} job failed:\n{done.stdout}\n{done.stderr}"
            cluster.job_output[job] = done.stdout + done.stderr
        yield cluster
    finally:
        _stop(nodes)


@pytest.fixture(scope="package")
def hub_up(
    secure_cluster: SecureCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningHub]:
    """``hub up`` with compose's ``hub-1`` settings: user hub over SASL_SSL on INTERNAL."""
    folder = tmp_path_factory.mktemp("hub-1")
    env = secure_cluster.hub_env("hub-1", folder / "data")
    hub = spawn_hub(env, folder / "up.out", folder / "up.err")
    try:
        hub.wait_ready(timeout_s=120)
        yield hub
    finally:
        if hub.process.poll() is None:
            hub.process.send_signal(signal.SIGTERM)
            try:
                hub.process.wait(30)
            except subprocess.TimeoutExpired:
                hub.process.kill()
                hub.process.wait(10)
