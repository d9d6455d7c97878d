"""The pinned Kafka's jars and the local node's configuration, without starting a broker."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from hub.broker import kafka
from hub.broker.kafka import (
    KAFKA_VERSION,
    default_jar_dir,
    fetch_jars,
    find_java,
    jars_present,
    java_command,
)
from hub.broker.kafka.node import _cause, new_cluster_id
from hub.broker.local import single_node_properties
from hub.core.errors import LocalBrokerError


def _complete(jar_dir: Path) -> Path:
    jar_dir.mkdir(parents=True)
    (jar_dir / ".complete").write_text(KAFKA_VERSION, encoding="utf-8")
    return jar_dir


def test_jar_dir_follows_the_setting_then_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_KAFKA_JARS_DIR", str(tmp_path / "jars"))
    assert default_jar_dir() == tmp_path / "jars"
    monkeypatch.delenv("HUB_KAFKA_JARS_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_jar_dir() == tmp_path / "cache" / "paijathame-hub" / f"kafka-{KAFKA_VERSION}"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_jar_dir() == tmp_path / "home" / ".cache" / "paijathame-hub" / (
        f"kafka-{KAFKA_VERSION}"
    )


def test_a_folder_without_the_completion_mark_is_an_interrupted_fetch(tmp_path: Path) -> None:
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "kafka-clients.jar").write_bytes(b"")
    assert not jars_present(tmp_path / "half")
    assert jars_present(_complete(tmp_path / "whole"))


def test_fetch_without_maven_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn on it
    with pytest.raises(LocalBrokerError, match=r"Maven is not installed: run `make kafka`"):
        fetch_jars(tmp_path / "jars")
    assert not (tmp_path / "jars").exists()


def test_fetch_of_present_jars_asks_no_maven(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    jar_dir = _complete(tmp_path / "jars")
    assert fetch_jars(jar_dir) == jar_dir


def _fake_mvn(folder: Path, script: str) -> None:
    folder.mkdir(exist_ok=True)
    mvn = folder / "mvn"
    mvn.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    mvn.chmod(mvn.stat().st_mode | stat.S_IXUSR)


def test_a_failing_maven_is_reported_with_its_last_lines_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _fake_mvn(tmp_path / "bin", "echo one; echo two; echo 'Could not resolve kafka_2.13'; exit 1\n")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(LocalBrokerError, match=r"\(exit 1\): .*Could not resolve kafka_2.13"):
        fetch_jars(tmp_path / "cache" / "jars")
    assert list((tmp_path / "cache").iterdir()) == []  # no half-filled folder, no staging left


def test_a_maven_that_copies_the_jars_completes_the_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The fake notes its arguments and copies one jar into -DoutputDirectory, as
    # dependency:copy-dependencies does.
    _fake_mvn(
        tmp_path / "bin",
        f'for a in "$@"; do echo "$a" >> {tmp_path}/args; case "$a" in -DoutputDirectory=*)'
        ' d="${a#-DoutputDirectory=}";; esac; done; : > "$d/kafka_2.13.jar"\n',
    )
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    jar_dir = fetch_jars(tmp_path / "cache" / "jars")
    assert jars_present(jar_dir)
    assert (jar_dir / ".complete").read_text(encoding="utf-8") == KAFKA_VERSION + "\n"
    assert (jar_dir / "kafka_2.13.jar").is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["jars"]
    args = (tmp_path / "args").read_text(encoding="utf-8").splitlines()
    staging = next(a for a in args if a.startswith("-DoutputDirectory=")).split("=", 1)[1]
    assert Path(staging).parent == tmp_path / "cache"  # staged beside the target, then renamed
    assert Path(staging).name.startswith(".jars-")
    assert args == [
        "--batch-mode",
        "--quiet",
        "--file",
        str(kafka.POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
    ]


def test_java_comes_from_java_home_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "jdk" / "bin").mkdir(parents=True)
    (tmp_path / "jdk" / "bin" / "java").write_text("", encoding="utf-8")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert find_java() == str(tmp_path / "jdk" / "bin" / "java")


def test_without_java_home_java_comes_from_the_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk-here"))
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\n", encoding="utf-8")
    java.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert find_java() == str(java)


def test_no_java_anywhere_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LocalBrokerError, match=r"no Java runtime found .* run `make kafka`"):
        find_java()


def test_java_command_runs_the_class_from_the_jar_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kafka, "find_java", lambda: "/opt/java")
    jar_dir = _complete(tmp_path / "jars")
    command = java_command(jar_dir, "kafka.Kafka", "server.properties", jvm_options=("-Xmx1g",))
    assert command == [
        "/opt/java",
        "-Djava.awt.headless=true",
        "-Xmx1g",
        "-cp",
        f"{jar_dir}/*",
        "kafka.Kafka",
        "server.properties",
    ]
    with pytest.raises(LocalBrokerError, match="is not in"):
        java_command(tmp_path / "absent", "kafka.Kafka")


def test_cluster_ids_are_kafka_uuids_that_read_as_no_option() -> None:
    ids = {new_cluster_id() for _ in range(300)}
    assert len(ids) == 300
    for cluster_id in ids:
        assert len(cluster_id) == 22
        assert not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_the_cause_of_a_java_failure_leaves_out_stack_frames_and_logging_chatter() -> None:
    output = (
        "SLF4J: Failed to load class\n"
        "org.apache.kafka.common.config.ConfigException: Invalid value 0 for num.network.threads\n"
        "\tat kafka.tools.StorageTool$.main(StorageTool.scala:48)\n"
        "\t... 3 more\n"
        "Exiting\n"
    )
    assert _cause(output) == (
        "org.apache.kafka.common.config.ConfigException: Invalid value 0 for "
        "num.network.threads | Exiting"
    )
    assert _cause("\tat x.y(Z.java:1)\n") == "no output"


def test_the_single_node_configuration_is_exactly_this() -> None:
    # The whole file: a changed property is a deliberate change of the local broker, seen
    # here and in docs/operations.md ("The local broker"), not a slip.
    assert single_node_properties("127.0.0.1", 9092, 9093) == {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": "1@127.0.0.1:9093",
        "listeners": "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093",
        "advertised.listeners": "PLAINTEXT://127.0.0.1:9092",
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


def test_the_single_node_listens_on_loopback_only_and_creates_no_topic_itself() -> None:
    properties = single_node_properties("127.0.0.1", 9092, 9093)
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert properties["auto.create.topics.enable"] == "false"
    # One node: every internal topic with one replica, or the broker could never create them.
    for name in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor"):
        assert properties[name] == "1"
    assert properties["transaction.state.log.min.isr"] == "1"
    # A one-second session (tests, a developer's restarts) is allowed.
    assert properties["group.min.session.timeout.ms"] == "1000"
