"""The shell scripts of docker/: the Kafka node's start script and the certificate generator.

The start script runs here with stand-ins for Kafka's own scripts that record how they were
called; the certificate script runs with the machine's keytool when there is one.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import DOCKER, read_properties, run_start_node


def _start_node(tmp_path: Path, secrets: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {
        "NODE_ID": "2",
        "CLUSTER_ID": "q4q49TnCykuNX5DfLDNUaQ",
        "EXTERNAL_HOST": "kafka.example.fi",
        "EXTERNAL_PORT": "19093",
    }
    return run_start_node(tmp_path, environment, secrets)


SECRETS = {
    "kafka_admin_password": "admin0pw",
    "kafka_keystore_password": "store0pw",
    "hub_kafka_password": "hub0pw",
    "lahti_kafka_password": "lahti0pw",
    "sote_kafka_password": "sote0pw",
}


def test_node_is_configured_formatted_with_every_scram_user_and_started(tmp_path: Path) -> None:
    result = _start_node(tmp_path, SECRETS)
    assert result.returncode == 0, result.stderr
    config = tmp_path / "etc" / "server.properties"
    properties = read_properties(config)
    assert properties["node.id"] == "2"
    # Without overrides: the container's ports, on every interface, and compose's host names.
    assert properties["listeners"] == "INTERNAL://:9092,CONTROLLER://:9093,EXTERNAL://:9094"
    assert properties["advertised.listeners"] == (
        "INTERNAL://kafka-2:9092,EXTERNAL://kafka.example.fi:19093"
    )
    assert properties["controller.quorum.voters"] == (
        "1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"
    )
    assert properties["log.dirs"] == "/var/lib/kafka/data"
    assert properties["ssl.keystore.location"] == "/etc/kafka/certs/kafka-2.p12"
    assert properties["ssl.keystore.password"] == "store0pw"
    assert (
        'username="admin" password="admin0pw";'
        in properties["listener.name.internal.scram-sha-512.sasl.jaas.config"]
    )
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # it holds passwords
    admin = read_properties(tmp_path / "etc" / "admin.properties")
    assert admin["security.protocol"] == "SASL_SSL"

    format_args = (tmp_path / "kafka-storage.sh.args").read_text(encoding="utf-8").splitlines()
    assert format_args[:6] == [
        "format", "--ignore-formatted", "--cluster-id", "q4q49TnCykuNX5DfLDNUaQ",
        "--config", str(config),
    ]  # fmt: skip
    users = [arg for arg in format_args if arg.startswith("SCRAM-SHA-512=")]
    assert sorted(users) == sorted(
        f"SCRAM-SHA-512=[name={user},password={user}0pw]"
        for user in ("admin", "hub", "lahti", "sote")
    )
    started = (tmp_path / "kafka-server-start.sh.args").read_text(encoding="utf-8")
    assert started.splitlines() == [str(config)]


def test_hosts_ports_and_folders_can_be_moved_and_nothing_else_changes(tmp_path: Path) -> None:
    assert _start_node(tmp_path / "compose", SECRETS).returncode == 0
    moved = {
        "NODE_ID": "2",
        "CLUSTER_ID": "q4q49TnCykuNX5DfLDNUaQ",
        "EXTERNAL_HOST": "localhost",
        "EXTERNAL_PORT": "40003",
        "NODE_HOST": "localhost",
        "LISTEN_HOST": "127.0.0.1",
        "INTERNAL_PORT": "40001",
        "CONTROLLER_PORT": "40002",
        "EXTERNAL_LISTEN_PORT": "40003",
        "QUORUM_VOTERS": "2@localhost:40002",
        "CERTS": "/srv/certs",
        "DATA_DIR": "/srv/data",
    }
    assert run_start_node(tmp_path / "moved", moved, SECRETS).returncode == 0
    compose = read_properties(tmp_path / "compose" / "etc" / "server.properties")
    properties = read_properties(tmp_path / "moved" / "etc" / "server.properties")
    assert properties["listeners"] == (
        "INTERNAL://127.0.0.1:40001,CONTROLLER://127.0.0.1:40002,EXTERNAL://127.0.0.1:40003"
    )
    assert properties["advertised.listeners"] == (
        "INTERNAL://localhost:40001,EXTERNAL://localhost:40003"
    )
    assert properties["controller.quorum.voters"] == "2@localhost:40002"
    assert properties["log.dirs"] == "/srv/data"
    assert properties["ssl.keystore.location"] == "/srv/certs/kafka-2.p12"
    changed = {
        key for key in compose.keys() | properties.keys() if compose.get(key) != properties.get(key)
    }
    assert changed == {
        "listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs",
        "ssl.keystore.location", "ssl.truststore.location",
    }  # fmt: skip


@pytest.mark.parametrize("bad", ["with,comma", 'quote"d', "spa ce", ""])
def test_a_password_kafka_could_not_parse_stops_the_node_before_formatting(
    tmp_path: Path, bad: str
) -> None:
    result = _start_node(tmp_path, {**SECRETS, "lahti_kafka_password": bad})
    assert result.returncode == 2
    assert "lahti_kafka_password must hold letters and digits only" in result.stderr
    assert not (tmp_path / "kafka-storage.sh.args").exists()


KEYTOOL = shutil.which("keytool")


def test_certificates_for_every_node_signed_by_one_ca_made_once(tmp_path: Path) -> None:
    assert KEYTOOL is not None, "keytool missing: `make test` installs it (.ci/ensure-postgresql)"
    password = tmp_path / "store-password"
    password.write_text("store0pw\n", encoding="utf-8")
    out = tmp_path / "certs"
    env = {
        **os.environ,
        "OUT": str(out),
        "EXTERNAL_HOST": "kafka.example.fi",
        "STORE_PASSWORD_FILE": str(password),
    }
    script = str(DOCKER / "certs" / "generate.sh")
    subprocess.run(["/bin/sh", script], env=env, check=True, capture_output=True, timeout=300)
    for node in ("kafka-1", "kafka-2", "kafka-3"):
        assert stat.S_IMODE((out / f"{node}.p12").stat().st_mode) == 0o600
        printed = subprocess.run(
            [str(KEYTOOL), "-printcert", "-file", str(out / f"{node}.pem")],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert f"Owner: CN={node}" in printed
        assert "Issuer: CN=paijathame-hub Kafka CA" in printed
        assert f"DNSName: {node}" in printed
        assert "DNSName: kafka.example.fi" in printed
    assert stat.S_IMODE((out / "ca.pem").stat().st_mode) == 0o644
    assert stat.S_IMODE((out / "private" / "ca.p12").stat().st_mode) == 0o600
    ca = (out / "ca.pem").read_bytes()
    again = subprocess.run(["/bin/sh", script], env=env, capture_output=True, text=True, check=True)
    assert "nothing to do" in again.stdout
    assert (out / "ca.pem").read_bytes() == ca
