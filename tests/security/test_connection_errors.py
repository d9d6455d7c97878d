"""A client Kafka refuses hears why, in one line, at once; one nobody answers hears what is tried.

One real Apache Kafka for the module with four listeners: PLAINTEXT (the broker's own, a super
user), TLS with a self-signed certificate issued for ``localhost`` only, SASL/PLAIN with one
users ``hub`` and ``nobody``, and the controller's. The standard authorizer denies what no ACL
allows: ``nobody`` holds no ACL, ``hub`` only DESCRIBE and CREATE on every topic, so its
idempotent producer's InitProducerId is refused (Kafka wants WRITE on a topic or
IDEMPOTENT_WRITE on the cluster).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.admin.acl_apply import apply_acls
from hub.admin.acls import AclBinding, Operation, PatternType, ResourceType
from hub.admin.provisioning import provision_topics
from hub.audit.signing import PRIVATE_KEY_FILE, load_or_create_signing_key
from hub.broker.connection import KafkaConnection
from hub.broker.kafka import default_jar_dir
from hub.broker.kafka.node import KafkaNode, new_cluster_id
from hub.broker.local import find_free_port, single_node_properties
from hub.cli import main
from hub.core.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging", "clean_env")]

HOST = "127.0.0.1"
PASSWORD = "hub-secret-never-printed"
TOPIC = "in.lahti.client-status"


@dataclass(frozen=True)
class Broker:
    """Where the module's broker listens, and the CA files a client may trust."""

    plaintext: int
    tls: int
    sasl: int
    ca: Path
    other_ca: Path


def _self_signed(directory: Path, name: str, dns_name: str) -> tuple[Path, Path]:
    """A key and certificate (one PEM file, Kafka's PEM key store) and the certificate alone
    (the CA file a client trusts)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_store = directory / f"{name}.keystore.pem"
    key_store.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + pem
    )
    ca = directory / f"{name}.ca.pem"
    ca.write_bytes(pem)
    return key_store, ca


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """The module's Kafka: PLAINTEXT, TLS and SASL listeners, ACLs enforced."""
    directory = tmp_path_factory.mktemp("kafka-errors")
    key_store, ca = _self_signed(directory, "broker", "localhost")
    _, other_ca = _self_signed(directory, "other", "localhost")
    plaintext, tls, sasl, controller = (find_free_port(HOST) for _ in range(4))
    properties = {
        **single_node_properties(HOST, plaintext, controller),
        "listeners": f"PLAINTEXT://{HOST}:{plaintext},TLS://{HOST}:{tls},"
        f"SASL://{HOST}:{sasl},CONTROLLER://{HOST}:{controller}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{plaintext},TLS://localhost:{tls},"
        f"SASL://{HOST}:{sasl}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,TLS:SSL,SASL:SASL_PLAINTEXT,"
        "CONTROLLER:PLAINTEXT",
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(key_store),
        "listener.name.sasl.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.sasl.plain.sasl.jaas.config": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'user_hub="{PASSWORD}" user_nobody="{PASSWORD}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        # The PLAINTEXT and controller listeners (the broker itself, the test's set-up).
        "super.users": "User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
    }
    node = KafkaNode(
        directory / "node", properties, new_cluster_id(), default_jar_dir(), heap="512m"
    )
    node.start(120)
    try:
        admin = KafkaConnection(
            f"{HOST}:{plaintext}", load_settings(kafka_bootstrap=f"{HOST}:{plaintext}")
        )
        asyncio.run(provision_topics(admin))
        hub_may_see_and_create = [
            AclBinding("User:hub", ResourceType.TOPIC, PatternType.LITERAL, "*", operation)
            for operation in (Operation.DESCRIBE, Operation.CREATE)
        ]
        asyncio.run(apply_acls(admin, hub_may_see_and_create))
        yield Broker(plaintext, tls, sasl, ca, other_ca)
    finally:
        node.stop()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ``HUB_`` variable from the outside; a private data directory; JSON logs; a
    connect timeout that a retried refusal would run into."""
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    monkeypatch.setenv("HUB_KAFKA_CONNECT_TIMEOUT_S", "60")


def _hub(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, **env: str
) -> tuple[int, str, list[dict[str, object]]]:
    """Run ``hub`` in this process: exit code, the error line, the log records."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("{")]
    assert len(lines) <= 1, err
    return code, lines[0] if lines else "", records


def _retried(records: list[dict[str, object]]) -> bool:
    return any(str(r["event"]).startswith("Kafka not reachable") for r in records)


def _tls(ca: Path) -> dict[str, str]:
    return {"HUB_KAFKA_SECURITY_PROTOCOL": "SSL", "HUB_KAFKA_SSL_CAFILE": str(ca)}


def _sasl(mechanism: str = "PLAIN", password: str = PASSWORD, user: str = "hub") -> dict[str, str]:
    return {
        "HUB_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "HUB_KAFKA_SASL_MECHANISM": mechanism,
        "HUB_KAFKA_SASL_USERNAME": user,
        "HUB_KAFKA_SASL_PASSWORD": password,
    }


def test_a_closed_port_says_what_it_tries_while_it_retries_then_one_line(
    tmp_path: Path,
) -> None:
    port = find_free_port(HOST)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= {
        "HUB_DATA_DIR": str(tmp_path / "data"),
        "HUB_LOG_FORMAT": "json",
        "HUB_KAFKA_BOOTSTRAP": f"{HOST}:{port}",
        "HUB_KAFKA_CONNECT_TIMEOUT_S": "5",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "hub", "topics", "list"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        first = json.loads(process.stderr.readline())
        # The administrator is told while the command still retries, not when it gives up.
        still_trying = process.poll() is None
        rest = process.stderr.read()
        code = process.wait(30)
    assert first["event"] == "Kafka not reachable: retrying"
    assert first["level"] == "warning"
    assert (first["bootstrap"], first["retrying_for_s"]) == (f"{HOST}:{port}", 5.0)
    assert first["reason"] == "connection refused"
    assert still_trying
    lines = rest.strip().splitlines()
    assert all(line.startswith("{") for line in lines[:-1]), rest
    assert lines[-1] == (
        f"hub: error: Kafka at {HOST}:{port} is not reachable: connection refused "
        "(tried for 5 s; HUB_KAFKA_CONNECT_TIMEOUT_S)"
    )
    assert code == 1
    assert "Traceback" not in rest


def test_a_ca_file_that_does_not_sign_the_broker_certificate_is_named_at_once(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, records = _hub(
        capsys,
        monkeypatch,
        "topics",
        "list",
        HUB_KAFKA_BOOTSTRAP=f"localhost:{broker.tls}",
        **_tls(broker.other_ca),
    )
    assert line == (
        f"hub: error: TLS: the certificate of localhost:{broker.tls} is not trusted by "
        f"HUB_KAFKA_SSL_CAFILE ({broker.other_ca}): self-signed certificate; point "
        "HUB_KAFKA_SSL_CAFILE at the CA that signed the broker's certificate"
    )
    assert code == 2
    assert not _retried(records)


def test_the_right_ca_file_lists_the_topics(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, _ = _hub(
        capsys,
        monkeypatch,
        "topics",
        "list",
        HUB_KAFKA_BOOTSTRAP=f"localhost:{broker.tls}",
        **_tls(broker.ca),
    )
    assert (code, line) == (0, "")


def test_a_certificate_for_another_name_is_named(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, records = _hub(
        capsys,
        monkeypatch,
        "topics",
        "list",
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.tls}",
        **_tls(broker.ca),
    )
    assert line.startswith(
        f"hub: error: TLS: the certificate of {HOST}:{broker.tls} is not issued for that name"
    ), line
    assert code == 2
    assert not _retried(records)


def test_tls_against_a_plaintext_listener_is_named(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, records = _hub(
        capsys,
        monkeypatch,
        "topics",
        "list",
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.plaintext}",
        **_tls(broker.ca),
    )
    assert line == (
        f"hub: error: Kafka at {HOST}:{broker.plaintext} answers without TLS on this port, but "
        "HUB_KAFKA_SECURITY_PROTOCOL is SSL: set it to PLAINTEXT, or use the port of a TLS "
        "listener"
    )
    assert code == 2
    assert not _retried(records)


def test_plaintext_against_a_tls_listener_is_named(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, records = _hub(
        capsys, monkeypatch, "topics", "list", HUB_KAFKA_BOOTSTRAP=f"localhost:{broker.tls}"
    )
    assert line.startswith(
        f"hub: error: Kafka at localhost:{broker.tls} speaks TLS on this port, but "
        "HUB_KAFKA_SECURITY_PROTOCOL is PLAINTEXT: set it to SSL"
    ), line
    assert code == 2
    assert not _retried(records)


def test_no_login_against_a_sasl_listener_is_named(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, records = _hub(
        capsys, monkeypatch, "topics", "list", HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.sasl}"
    )
    assert line.startswith(
        f"hub: error: Kafka at {HOST}:{broker.sasl} wants a SASL login on this port (PLAIN), "
        "but HUB_KAFKA_SECURITY_PROTOCOL is PLAINTEXT: set it to SASL_PLAINTEXT"
    ), line
    assert code == 2
    assert not _retried(records)


def test_a_login_against_a_listener_without_sasl_is_named(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, records = _hub(
        capsys,
        monkeypatch,
        "topics",
        "list",
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.plaintext}",
        **_sasl(),
    )
    assert line.startswith(
        f"hub: error: Kafka at {HOST}:{broker.plaintext} takes no SASL login on this port"
    ), line
    assert code == 2
    assert not _retried(records)


def test_a_mechanism_the_listener_does_not_enable_is_named_with_those_it_does(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, records = _hub(
        capsys,
        monkeypatch,
        "topics",
        "list",
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.sasl}",
        **_sasl("SCRAM-SHA-512"),
    )
    assert line == (
        f"hub: error: Kafka at {HOST}:{broker.sasl} does not enable the SASL mechanism "
        "SCRAM-SHA-512 (it offers PLAIN): set HUB_KAFKA_SASL_MECHANISM to one it offers"
    )
    assert code == 2
    assert not _retried(records)


def test_a_wrong_password_names_the_user_never_the_password(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "wrong-password-never-printed"
    code, line, records = _hub(
        capsys,
        monkeypatch,
        "topics",
        "list",
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.sasl}",
        **_sasl(password=wrong),
    )
    assert line.startswith(
        f"hub: error: Kafka at {HOST}:{broker.sasl} refused the PLAIN login of user 'hub'"
    ), line
    assert wrong not in line
    assert wrong not in json.dumps(records)
    assert code == 2
    assert not _retried(records)


def test_a_refused_idempotent_producer_names_init_producer_id_and_the_setting(
    broker: Broker,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    messages = tmp_path / "messages.txt"
    messages.write_text("{}\n", encoding="utf-8")
    code, line, records = _hub(
        capsys,
        monkeypatch,
        "send",
        TOPIC,
        str(messages),
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.sasl}",
        **_sasl(),
    )
    assert line == (
        f"hub: error: Kafka at {HOST}:{broker.sasl} refused an idempotent producer "
        "(InitProducerId: ClusterAuthorizationFailedError): user 'hub' needs WRITE on a topic "
        "or IDEMPOTENT_WRITE on the cluster (`hub acls generate`), or set "
        "HUB_KAFKA_IDEMPOTENCE=false"
    )
    assert PASSWORD not in line
    assert code == 2
    assert not _retried(records)


def test_without_idempotence_the_missing_write_acl_is_named(
    broker: Broker,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    messages = tmp_path / "messages.txt"
    messages.write_text("{}\n", encoding="utf-8")
    code, line, _ = _hub(
        capsys,
        monkeypatch,
        "send",
        TOPIC,
        str(messages),
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.sasl}",
        HUB_KAFKA_IDEMPOTENCE="false",
        **_sasl(),
    )
    assert line.startswith(
        f"hub: error: Kafka at {HOST}:{broker.sasl} does not allow user 'hub' to write to "
        f"topic {TOPIC} (TopicAuthorizationFailedError)"
    ), line
    assert code == 2


@pytest.mark.parametrize(
    ("transactions", "expected"),
    [
        (
            "true",
            "does not allow user 'hub' to use the transactional ids hub.* of its routes "
            "(TransactionalIdAuthorizationFailed)",
        ),
        (
            "false",
            "refused an idempotent producer (InitProducerId: ClusterAuthorizationFailedError)",
        ),
    ],
)
def test_hub_up_names_a_refused_producer(
    broker: Broker,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    transactions: str,
    expected: str,
) -> None:
    load_or_create_signing_key(None, tmp_path / "keys", may_generate=True)
    code, line, _ = _hub(
        capsys,
        monkeypatch,
        "up",
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.sasl}",
        HUB_AUDIT_SIGNING_KEY_FILE=str(tmp_path / "keys" / PRIVATE_KEY_FILE),
        HUB_PSEUDONYM_SECRET="connection-errors-test-secret-0123456789",
        HUB_KAFKA_TRANSACTIONS=transactions,
        **_sasl(),
    )
    assert line.startswith(f"hub: error: Kafka at {HOST}:{broker.sasl} {expected}"), line
    assert code == 2


def test_provisioning_without_the_acl_to_create_topics_is_named(
    broker: Broker, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, line, _ = _hub(
        capsys,
        monkeypatch,
        "topics",
        "provision",
        HUB_KAFKA_BOOTSTRAP=f"{HOST}:{broker.sasl}",
        **_sasl(user="nobody"),
    )
    assert line.startswith(
        f"hub: error: Kafka at {HOST}:{broker.sasl} does not allow user 'nobody' to create topic "
    ), line
    assert "(TopicAuthorizationFailedError)" in line
    assert code == 2
