"""Client arguments from settings: the local broker and a real cluster differ by config."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.broker.connection import (
    KafkaConnection,
    connection_for,
    read_local_state,
    write_local_state,
)
from hub.broker.faststream_broker import security_for
from hub.core.errors import ConfigurationError
from hub.core.settings import load_settings


def test_plaintext_client_arguments() -> None:
    connection = KafkaConnection("k:9092", load_settings(kafka_bootstrap="k:9092"))
    assert connection.client_kwargs() == {
        "bootstrap_servers": "k:9092",
        "client_id": "paijathame-hub",
        "security_protocol": "PLAINTEXT",
    }
    assert connection.producer_kwargs()["enable_idempotence"] is True
    assert connection.producer_kwargs()["acks"] == "all"
    assert security_for(connection) is None


def test_sasl_scram_arguments_and_faststream_security() -> None:
    settings = load_settings(
        kafka_bootstrap="k:9092",
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="hub",
        kafka_sasl_password="pw",
    )
    connection = KafkaConnection("k:9092", settings)
    kwargs = connection.client_kwargs()
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("hub", "pw")
    assert type(security_for(connection)).__name__ == "SASLScram512"


def test_sasl_password_is_read_from_its_file_when_a_client_connects(tmp_path: Path) -> None:
    secret = tmp_path / "hub_kafka_password"
    secret.write_text("first-password\n", encoding="utf-8")
    settings = load_settings(
        kafka_bootstrap="k:9092",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="hub",
        kafka_sasl_password_file=secret,
    )
    connection = KafkaConnection("k:9092", settings)
    assert connection.client_kwargs()["sasl_plain_password"] == "first-password"
    secret.write_text("rotated-password\n", encoding="utf-8")  # rotation needs no new settings
    assert connection.client_kwargs()["sasl_plain_password"] == "rotated-password"
    secret.unlink()
    with pytest.raises(ConfigurationError, match="HUB_KAFKA_SASL_PASSWORD_FILE: cannot read"):
        connection.client_kwargs()


def test_unreadable_tls_files_are_a_configuration_error(tmp_path: Path) -> None:
    settings = load_settings(
        kafka_bootstrap="k:9093",
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=tmp_path / "absent-ca.pem",
    )
    with pytest.raises(ConfigurationError, match="HUB_KAFKA_SSL_"):
        KafkaConnection("k:9093", settings).client_kwargs()


def test_commands_find_a_running_local_broker_through_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="no local broker is running"):
        connection_for(settings)
    write_local_state(tmp_path, "127.0.0.1:4242")
    assert read_local_state(tmp_path) == "127.0.0.1:4242"
    assert connection_for(settings).bootstrap == "127.0.0.1:4242"


def test_state_of_a_dead_hub_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "local-broker.json").write_text('{"bootstrap": "x:1", "pid": 999999999}')
    assert read_local_state(tmp_path) is None
    (tmp_path / "local-broker.json").write_text("not json")
    assert read_local_state(tmp_path) is None


def test_explicit_bootstrap_wins_over_local_state(tmp_path: Path) -> None:
    write_local_state(tmp_path, "127.0.0.1:4242")
    settings = load_settings(data_dir=tmp_path, kafka_bootstrap="kafka:9092")
    assert connection_for(settings).bootstrap == "kafka:9092"
