"""Settings: environment, config file, one-line errors, the pseudonym secret."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from hub.core.errors import ConfigurationError
from hub.core.settings import load_settings, pseudonym_secret

SECRET = "s" * 40


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os  # noqa: PLC0415

    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)


def test_defaults_mean_a_local_broker_with_idempotent_producers() -> None:
    settings = load_settings()
    assert settings.local_broker
    assert settings.kafka_bootstrap is None
    assert settings.kafka_idempotence is True
    assert settings.kafka_session_timeout_ms == 10_000
    assert settings.data_dir == Path(".hub")


def test_real_cluster_is_idempotent_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "kafka-1:9093,kafka-2:9093")
    settings = load_settings()
    assert not settings.local_broker
    assert settings.kafka_idempotence is True


def test_idempotence_can_be_switched_off_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "kafka-1:9093")
    monkeypatch.setenv("HUB_KAFKA_IDEMPOTENCE", "false")
    assert load_settings().kafka_idempotence is False


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("HUB_LOG_LEVEL", "loud", "HUB_LOG_LEVEL:"),
        ("HUB_KAFKA_BOOTSTRAP", "no-port", "HUB_KAFKA_BOOTSTRAP: Value error, must be host:port"),
        ("HUB_KAFKA_BOOTSTRAP", "h:99999", "HUB_KAFKA_BOOTSTRAP:"),
        ("HUB_TOPIC_PARTITIONS", "0", "HUB_TOPIC_PARTITIONS:"),
        ("HUB_KAFKA_SECURITY_PROTOCOL", "TLS", "HUB_KAFKA_SECURITY_PROTOCOL:"),
        ("HUB_PSEUDONYM_SECRET", "short", "HUB_PSEUDONYM_SECRET: Value error, must be at least"),
    ],
)
def test_invalid_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_secret_value_is_never_echoed_in_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_PSEUDONYM_SECRET", "tiny-secret")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "tiny-secret" not in str(caught.value)


def test_config_file_is_read_and_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('log_level = "warning"\ntopic_partitions = 12\n', encoding="utf-8")
    monkeypatch.setenv("HUB_CONFIG_FILE", str(config))
    monkeypatch.setenv("HUB_TOPIC_PARTITIONS", "6")
    settings = load_settings()
    assert settings.log_level == "warning"
    assert settings.topic_partitions == 6


def test_unknown_key_in_config_file_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "hub.toml"
    config.write_text("log_levle = 'debug'\n", encoding="utf-8")
    monkeypatch.setenv("HUB_CONFIG_FILE", str(config))
    with pytest.raises(ConfigurationError, match=r"^HUB_LOG_LEVLE: is not a known setting$"):
        load_settings()


def test_missing_config_file_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_CONFIG_FILE", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigurationError, match=r"HUB_CONFIG_FILE: file .* does not exist"):
        load_settings()


def test_broken_toml_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "hub.toml"
    config.write_text("log_level = \n", encoding="utf-8")
    monkeypatch.setenv("HUB_CONFIG_FILE", str(config))
    with pytest.raises(ConfigurationError, match="HUB_CONFIG_FILE"):
        load_settings()


def test_local_broker_run_generates_secret_once_with_mode_0600(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first = pseudonym_secret(settings)
    key_file = tmp_path / "data" / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) == 64
    assert pseudonym_secret(settings) == first


def test_real_cluster_requires_an_explicit_secret(tmp_path: Path) -> None:
    settings = load_settings(kafka_bootstrap="kafka:9092", data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match=r"^HUB_PSEUDONYM_SECRET: required"):
        pseudonym_secret(settings)
    assert not (tmp_path / "pseudonym.key").exists()


def test_explicit_secret_and_secret_file_are_used(tmp_path: Path) -> None:
    assert pseudonym_secret(load_settings(pseudonym_secret=SECRET)) == SECRET.encode()
    secret_file = tmp_path / "secret"
    secret_file.write_text("f" * 48 + "\n", encoding="utf-8")
    settings = load_settings(kafka_bootstrap="kafka:9092", pseudonym_secret_file=secret_file)
    assert pseudonym_secret(settings) == b"f" * 48


def test_short_secret_file_is_refused(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("short\n", encoding="utf-8")
    settings = load_settings(pseudonym_secret_file=secret_file)
    with pytest.raises(ConfigurationError, match="HUB_PSEUDONYM_SECRET_FILE: secret must be"):
        pseudonym_secret(settings)


def test_sasl_protocol_without_credentials_is_refused_at_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "kafka:9093")
    monkeypatch.setenv("HUB_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("HUB_KAFKA_SASL_USERNAME", "hub")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value) == (
        "HUB_KAFKA_SASL_MECHANISM, HUB_KAFKA_SASL_USERNAME and HUB_KAFKA_SASL_PASSWORD (or "
        "HUB_KAFKA_SASL_PASSWORD_FILE) are all required with HUB_KAFKA_SECURITY_PROTOCOL=SASL_SSL"
    )


def test_kela_data_start_is_a_date_and_unset_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().kela_data_start is None
    monkeypatch.setenv("HUB_KELA_DATA_START", "2025-01-01")
    assert load_settings().kela_data_start == dt.date(2025, 1, 1)


def test_a_kela_data_start_that_is_not_a_date_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_KELA_DATA_START", "01.01.2025")
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert "HUB_KELA_DATA_START" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_bounds_against_poison_have_sane_defaults() -> None:
    settings = load_settings()
    assert settings.route_max_attempts == 10
    assert settings.kafka_fetch_max_bytes == 4 * 1024 * 1024
    assert settings.kafka_max_partition_fetch_bytes == 1024 * 1024


@pytest.mark.parametrize(
    ("variable", "lowest", "highest"),
    [
        ("HUB_ROUTE_MAX_ATTEMPTS", 1, 1000),
        ("HUB_KAFKA_FETCH_MAX_BYTES", 1024, 256 * 1024 * 1024),
        ("HUB_KAFKA_MAX_PARTITION_FETCH_BYTES", 1024, 64 * 1024 * 1024),
    ],
)
def test_the_bounds_against_poison_are_checked_at_their_limits(
    monkeypatch: pytest.MonkeyPatch, variable: str, lowest: int, highest: int
) -> None:
    name = variable.removeprefix("HUB_").lower()
    for accepted in (lowest, highest):
        monkeypatch.setenv(variable, str(accepted))
        assert getattr(load_settings(), name) == accepted
    for refused in (lowest - 1, highest + 1):
        monkeypatch.setenv(variable, str(refused))
        with pytest.raises(ConfigurationError, match=rf"^{variable}: "):
            load_settings()


def test_the_transaction_timeout_defaults_to_thirty_seconds() -> None:
    assert load_settings().kafka_transaction_timeout_ms == 30_000


@pytest.mark.parametrize(
    ("value", "accepted"), [(999, False), (1_000, True), (900_000, True), (900_001, False)]
)
def test_the_transaction_timeout_is_bounded_by_kafkas_limits(
    monkeypatch: pytest.MonkeyPatch, value: int, accepted: bool
) -> None:
    monkeypatch.setenv("HUB_KAFKA_TRANSACTION_TIMEOUT_MS", str(value))
    if accepted:
        assert load_settings().kafka_transaction_timeout_ms == value
    else:
        with pytest.raises(ConfigurationError, match=r"^HUB_KAFKA_TRANSACTION_TIMEOUT_MS: "):
            load_settings()
