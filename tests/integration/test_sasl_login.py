"""The hub against a SASL-protected broker, with the security settings of docker/compose.yaml.

Tansu 0.6.0 (the embedded broker) enforces SASL with ``--authentication`` but cannot hold a
SCRAM user (docs/broker-differences.md, "SASL and TLS"), so the only login it can show is a
refused one: these tests pin how the hub reports that. TLS is left out for the same reason
(Tansu cannot serve it), so ``SASL_SSL`` becomes ``SASL_PLAINTEXT`` here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.audit.signing import PRIVATE_KEY_FILE, load_or_create_signing_key
from hub.broker.embedded import EmbeddedBroker
from tests.deploy.conftest import hub_environment, load_compose
from tests.e2e.conftest import hub_env, run_hub

pytestmark = pytest.mark.integration

PASSWORD = "not-the-password-of-hub"


def _compose_security() -> dict[str, str]:
    """The hub's SASL settings as docker/compose.yaml sets them, TLS taken out."""
    environment = hub_environment(load_compose()["services"]["hub-1"])
    protocol = environment["HUB_KAFKA_SECURITY_PROTOCOL"].replace("SASL_SSL", "SASL_PLAINTEXT")
    return {
        "HUB_KAFKA_SECURITY_PROTOCOL": protocol,
        "HUB_KAFKA_SASL_MECHANISM": environment["HUB_KAFKA_SASL_MECHANISM"],
        "HUB_KAFKA_SASL_USERNAME": environment["HUB_KAFKA_SASL_USERNAME"],
    }


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A Tansu broker that requires every client to log in with SASL."""
    log = tmp_path_factory.mktemp("sasl-broker") / "tansu.log"
    broker = EmbeddedBroker(log_path=log, authentication=True)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def _env(tmp_path: Path, broker: EmbeddedBroker) -> dict[str, str]:
    password_file = tmp_path / "hub_kafka_password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    # `hub up` against a real cluster also needs the audit signing key, as in docker/.
    load_or_create_signing_key(None, tmp_path / "keys", may_generate=True)
    return hub_env(
        tmp_path / "data",
        HUB_KAFKA_BOOTSTRAP=broker.bootstrap,
        HUB_KAFKA_SASL_PASSWORD_FILE=str(password_file),
        HUB_AUDIT_SIGNING_KEY_FILE=str(tmp_path / "keys" / PRIVATE_KEY_FILE),
        HUB_KAFKA_CONNECT_TIMEOUT_S="60",
        HUB_PSEUDONYM_SECRET="integration-test-secret-0123456789abcdef",
        **_compose_security(),
    )


def _error_lines(stderr: str) -> list[str]:
    """stderr without the JSON log records: what a person reads."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")]


def test_compose_uses_scram_over_sasl() -> None:
    security = _compose_security()
    assert security["HUB_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert security["HUB_KAFKA_SASL_MECHANISM"].startswith("SCRAM-SHA-")


def test_a_refused_login_is_one_line_at_once_not_a_retried_network_error(
    tmp_path: Path, sasl_broker: EmbeddedBroker
) -> None:
    started = time.monotonic()
    result = run_hub("topics", "list", env=_env(tmp_path, sasl_broker))
    elapsed = time.monotonic() - started
    assert result.returncode == 2
    mechanism = _compose_security()["HUB_KAFKA_SASL_MECHANISM"]
    assert _error_lines(result.stderr) == [
        f"hub: error: Kafka at {sasl_broker.bootstrap} refused the {mechanism} login of user "
        "'hub': check HUB_KAFKA_SASL_USERNAME, HUB_KAFKA_SASL_PASSWORD and "
        "HUB_KAFKA_SASL_MECHANISM"
    ]
    assert elapsed < 30, "the refusal waited for the connect timeout (60 s) instead"
    assert PASSWORD not in result.stdout + result.stderr


def test_hub_up_with_a_refused_login_stops_with_the_same_line(
    tmp_path: Path, sasl_broker: EmbeddedBroker
) -> None:
    result = run_hub("up", env=_env(tmp_path, sasl_broker))
    assert result.returncode == 2
    [line] = _error_lines(result.stderr)
    assert line.startswith(f"hub: error: Kafka at {sasl_broker.bootstrap} refused the ")
    assert "Traceback" not in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    assert "hub up" not in result.stdout


def test_applying_acls_to_a_broker_without_acls_is_one_line(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    env = hub_env(tmp_path / "data", HUB_KAFKA_BOOTSTRAP=kafka_bootstrap)
    result = run_hub("acls", "generate", "--apply", env=env)
    assert result.returncode == 1
    assert _error_lines(result.stderr) == [
        f"hub: error: creating ACL READ on group hub. for User:hub failed: KafkaConnectionError "
        f"(does the broker at {kafka_bootstrap} support ACLs?)"
    ]
    assert result.stdout.startswith("User:hub")  # the ACLs were printed before applying
