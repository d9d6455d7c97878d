"""SASL/SCRAM-SHA-512 over TLS with the generated ACLs, on the production cluster of docker/.

The cluster (tests/security/conftest.py) runs docker/kafka/start-node.sh on three nodes with the
certificates and secrets of docker/'s scripts; the compose jobs applied the ACLs of ``hub acls
generate`` as ``admin`` and created the topics as ``hub``. Every refusal here has its
counterpart that succeeds for the principal the ACLs allow, so a test fails when the ACLs are
missing as well as when they are wrong.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import GroupAuthorizationFailedError, TopicAuthorizationFailedError
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.structs import ConsumerRecord
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from connectors import CONNECTORS
from hub.admin.acls import acl_bindings
from hub.app.runtime import renderers_for
from hub.core.topics import TOPICS
from hub.distribution.contracts import load_contract_book
from tests.deploy.conftest import (
    compose_node_environment,
    load_compose,
    read_properties,
    run_start_node,
)
from tests.e2e.conftest import RunningHub, run_hub
from tests.security.conftest import NODES, SecureCluster, error_lines

pytestmark = pytest.mark.security

Records = list[ConsumerRecord[bytes, bytes]]

TOPIC_AUTHORIZATION_FAILED = 29
NOT_LEADER_OR_FOLLOWER = 6
#: Identity codes of test data have individual numbers 900-999.
JOBSEEKER = "131052-930V"
KELA = {"k": "urn:fi:kela:tvpt:1"}
_MB = 1 << 20


def _status(change_id: str) -> bytes:
    """A Lahti client-status change, as Lahti's system sends it (in.lahti.client-status)."""
    return json.dumps(
        {
            "muutosId": change_id,
            "asiakasnumero": "A-1002345",
            "hetu": JOBSEEKER,
            "kotikunta": "398",
            "tyollisyystilanne": "02",
            "tilanneAlkaa": "2025-03-01",
            "tyonhakuVoimassa": True,
            "palvelu": None,
            "vastuuvirkailija": "Virtanen Maija",
            "muistiinpano": "Tietoturvatesti.",
            "muutettu": "2025-03-01T08:12:00+02:00",
        }
    ).encode()


async def _produce(cluster: SecureCluster, user: str, topic: str, value: bytes) -> int:
    """Send one record as ``user`` to the partners' listeners; return its offset."""
    producer = AIOKafkaProducer(**cluster.client_kwargs(user))
    try:
        await producer.start()
        metadata = await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()
    return int(metadata.offset)


async def _consume(
    cluster: SecureCluster, user: str, topic: str, group: str, until: Callable[[Records], bool]
) -> Records:
    """Read ``topic`` as ``user`` in consumer group ``group`` until ``until`` holds (or 60 s)."""
    consumer = AIOKafkaConsumer(
        topic,
        **cluster.client_kwargs(user),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    records: Records = []
    try:
        # With a group, start() waits for the group's assignment: a refused group raises here.
        await consumer.start()
        deadline = time.monotonic() + 60
        while not until(records) and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def _fetch_error(cluster: SecureCluster, user: str, topic: str) -> int:
    """The error code of a Fetch of partition 0 of ``topic`` by ``user``, sent to its leader.

    aiokafka's consumer never sends a Fetch for a topic its user may not describe (it waits
    for metadata that never comes), so the request goes out directly, to the leader that
    ``admin`` sees.
    """
    admin = AIOKafkaAdminClient(**cluster.client_kwargs("admin"))
    try:
        await admin.start()
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    leader = next(p["leader"] for p in described["partitions"] if p["partition"] == 0)
    client = AIOKafkaClient(**cluster.client_kwargs(user))
    try:
        await client.bootstrap()
        request = FetchRequest(100, 0, _MB, 0, [(topic, [(0, 0, _MB)])])
        response = await client.send(leader, request)
    finally:
        await client.close()
    [(name, [partition])] = [(t[0], t[1]) for t in response.topics]
    assert name == topic
    return int(partition[1])


def test_the_nodes_run_composes_configuration_with_only_hosts_ports_and_folders_moved(
    secure_cluster: SecureCluster, tmp_path: Path
) -> None:
    compose = load_compose()
    for node in NODES:
        running = read_properties(secure_cluster.config(node))
        node_secrets = secure_cluster.root / node / "secrets"
        secrets = {
            name: (node_secrets / name).read_text(encoding="utf-8").strip()
            for name in compose["services"][node]["secrets"]
        }
        environment = compose_node_environment(compose, node)
        result = run_start_node(tmp_path / node, environment, secrets)
        assert result.returncode == 0, result.stderr
        in_compose = read_properties(tmp_path / node / "etc" / "server.properties")
        keys = running.keys() | in_compose.keys()
        changed = {key for key in keys if running.get(key) != in_compose.get(key)}
        assert changed == {
            "listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs",
            "ssl.keystore.location", "ssl.truststore.location",
        }, node  # fmt: skip
        assert running["allow.everyone.if.no.acl.found"] == "false"
    # The ACL job applied every generated binding, as admin; the topics job made the catalogue.
    book = load_contract_book(renderers_for(CONNECTORS))
    assert f"{len(acl_bindings(book))} ACL bindings applied" in secure_cluster.job_output["acls"]
    assert f"{len(TOPICS)} topics created" in secure_cluster.job_output["topics"]


def test_no_node_logs_a_password_or_a_scram_key(secure_cluster: SecureCluster) -> None:
    secrets = [
        *(secure_cluster.password(u) for u in ("admin", "hub", "lahti", "ph", "kela", "sote")),
        (secure_cluster.secrets / "kafka_keystore_password").read_text(encoding="utf-8").strip(),
    ]
    for node in NODES:
        log_path = secure_cluster.root / node / "node.log"
        log = log_path.read_text(encoding="utf-8", errors="replace")
        assert "Kafka Server started" in log
        # kafka-storage format prints the SCRAM records it writes, keys and salts included.
        assert "storedKey" not in log
        assert "serverKey" not in log
        for secret in secrets:
            assert secret not in log


def test_hub_up_as_hub_carries_a_partners_message_to_the_receiving_partner(
    secure_cluster: SecureCluster, hub_up: RunningHub
) -> None:
    offset = asyncio.run(
        _produce(secure_cluster, "lahti", "in.lahti.client-status", _status("sec-1"))
    )
    assert offset >= 0
    # Nothing else in this module makes a client-status change: Kela gets this one document.
    [record] = asyncio.run(
        _consume(
            secure_cluster,
            "kela",
            "out.kela.client-status",
            "kela.security-test",
            until=lambda records: len(records) >= 1,
        )
    )
    document = etree.fromstring(record.value)
    assert document.findtext("k:Antaja", namespaces=KELA) == "lahti"
    assert document.findtext("k:Henkilotunnus", namespaces=KELA) == JOBSEEKER
    status = document.find("k:Tilanne", namespaces=KELA)
    assert status is not None
    assert (status.get("koodi"), status.get("alkaa")) == ("02", "2025-03-01")
    assert record.key is not None
    assert record.key.startswith(b"p-")  # the pseudonymous reference, never the code
    assert hub_up.process.poll() is None
    assert JOBSEEKER not in hub_up.stderr()


@pytest.mark.parametrize(
    ("user", "topic", "error"),
    [
        ("lahti", "out.lahti.client-status", 0),
        ("lahti", "out.ph.client-status", TOPIC_AUTHORIZATION_FAILED),
        ("lahti", "out.kela.client-status", TOPIC_AUTHORIZATION_FAILED),
        ("kela", "out.kela.client-status", 0),
        ("ph", "out.ph.client-status", 0),
        # Nor its own input back, nor the hub's canonical topics.
        ("lahti", "in.lahti.client-status", TOPIC_AUTHORIZATION_FAILED),
        ("lahti", "hub.client-status.v1", TOPIC_AUTHORIZATION_FAILED),
    ],
)
def test_a_partner_reads_its_own_out_topics_and_nothing_else(
    secure_cluster: SecureCluster, user: str, topic: str, error: int
) -> None:
    assert asyncio.run(_fetch_error(secure_cluster, user, topic)) == error


@pytest.mark.parametrize(
    ("user", "topic", "allowed"),
    [
        ("lahti", "in.lahti.service-referral", True),
        ("ph", "in.ph.service-referral", True),
        ("lahti", "in.ph.service-referral", False),
        ("lahti", "in.kela.benefit-day", False),
        # It reads out.lahti.*, but may not forge the hub's messages there.
        ("lahti", "out.lahti.service-referral", False),
        ("lahti", "hub.service-referral.v1", False),
    ],
)
def test_a_partner_writes_its_own_in_topics_and_nothing_else(
    secure_cluster: SecureCluster, user: str, topic: str, allowed: bool
) -> None:
    # Not a referral: a route that reads it dead-letters it, no partner receives it.
    value = b"security test: not a referral"
    if allowed:
        assert asyncio.run(_produce(secure_cluster, user, topic, value)) >= 0
    else:
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(_produce(secure_cluster, user, topic, value))


@pytest.mark.parametrize(
    ("group", "allowed"),
    [
        ("lahti.security-test", True),
        ("kela.security-test", False),
        ("hub.lahti.client-status", False),  # the hub's own group: it would take its partitions
    ],
)
def test_a_partner_uses_consumer_groups_under_its_own_prefix_only(
    secure_cluster: SecureCluster, group: str, allowed: bool
) -> None:
    def consume() -> Records:
        topic = "out.lahti.client-status"
        return asyncio.run(_consume(secure_cluster, "lahti", topic, group, until=lambda _: True))

    if allowed:
        consume()
    else:
        with pytest.raises(GroupAuthorizationFailedError):
            consume()


async def _topic_errors(cluster: SecureCluster, user: str, action: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(**cluster.client_kwargs(user, bootstrap=cluster.internal))
    try:
        await admin.start()
        if action == "create":
            response = await admin.create_topics([NewTopic(topic, 1, 3)])
            [(_, code, *_)] = response.topic_errors
        else:
            response = await admin.delete_topics([topic])
            [(_, code)] = response.topic_error_codes
    finally:
        await admin.close()
    return int(code)


def test_the_hub_may_not_delete_topics_nor_create_topics_outside_the_catalogue(
    secure_cluster: SecureCluster,
) -> None:
    def run(user: str, action: str, topic: str) -> int:
        return asyncio.run(_topic_errors(secure_cluster, user, action, topic))

    # It reads, writes, describes and created hub.deadletter.v1; deleting it is not its business.
    assert run("hub", "delete", "hub.deadletter.v1") == TOPIC_AUTHORIZATION_FAILED
    assert run("hub", "create", "hub.security-test.v1") == TOPIC_AUTHORIZATION_FAILED
    # Both work in this cluster, for the super user.
    assert run("admin", "create", "hub.security-test.v1") == 0
    assert run("admin", "delete", "hub.security-test.v1") == 0


def test_the_hub_may_not_change_acls_and_says_so_in_one_line(
    secure_cluster: SecureCluster, tmp_path: Path
) -> None:
    command = load_compose()["services"]["acls"]["command"]
    result = run_hub(*command, env=secure_cluster.hub_env("hub-1", tmp_path / "data"))
    assert result.returncode == 1
    assert error_lines(result.stderr) == [
        "hub: error: Kafka refused to create ACL READ on group hub. for User:hub: "
        "CLUSTER_AUTHORIZATION_FAILED (error 31): 'hub' may not change ACLs; run this as a "
        "super user (ALTER on the cluster)"
    ]
    # The same command as admin is the compose job the cluster fixture ran.
    assert "ACL bindings applied" in secure_cluster.job_output["acls"]


@pytest.mark.parametrize(
    ("command", "user"),
    [(("topics", "list"), "hub"), (("up",), "hub"), (("topics", "list"), "nobody")],
)
def test_a_refused_login_is_one_line_naming_the_user_and_the_sasl_settings(
    secure_cluster: SecureCluster, tmp_path: Path, command: tuple[str, ...], user: str
) -> None:
    wrong = tmp_path / "wrong_kafka_password"
    wrong.write_text("0123456789abcdefWRONG\n", encoding="utf-8")
    env = secure_cluster.hub_env(
        "hub-1",
        tmp_path / "data",
        HUB_KAFKA_SASL_USERNAME=user,
        HUB_KAFKA_SASL_PASSWORD_FILE=str(wrong),
        # Retrying a refused login like an unreachable broker would outlast run_hub's limit.
        HUB_KAFKA_CONNECT_TIMEOUT_S="600",
    )
    result = run_hub(*command, env=env, timeout=120)
    assert result.returncode == 2
    assert error_lines(result.stderr) == [
        f"hub: error: Kafka at {secure_cluster.internal} refused the SCRAM-SHA-512 login of "
        f"user '{user}': check HUB_KAFKA_SASL_USERNAME, HUB_KAFKA_SASL_PASSWORD and "
        "HUB_KAFKA_SASL_MECHANISM"
    ]
    assert "Traceback" not in result.stderr
    assert "WRONG" not in result.stdout + result.stderr
    # The right password of the same settings logs in (the refusal is the password's).
    if user == "hub":
        env["HUB_KAFKA_SASL_PASSWORD_FILE"] = str(secure_cluster.secrets / "hub_kafka_password")
        listed = run_hub("topics", "list", env=env, timeout=120)
        assert listed.returncode == 0, listed.stderr


def _unrelated_ca(folder: Path) -> Path:
    """A CA certificate (PEM) that signed none of the brokers' certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "some other CA")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "other-ca.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def test_brokers_the_ca_file_does_not_vouch_for_are_named_as_a_tls_refusal_in_one_line(
    secure_cluster: SecureCluster, tmp_path: Path
) -> None:
    env = secure_cluster.hub_env(
        "hub-1",
        tmp_path / "data",
        HUB_KAFKA_SSL_CAFILE=str(_unrelated_ca(tmp_path)),
        # Long: a refusal is reported at once, not after the connect timeout runs out.
        HUB_KAFKA_CONNECT_TIMEOUT_S="600",
    )
    result = run_hub("topics", "list", env=env, timeout=120)
    assert result.returncode == 2
    [line] = error_lines(result.stderr)
    assert line.startswith("hub: error: TLS: the certificate of ")
    assert "is not trusted by HUB_KAFKA_SSL_CAFILE" in line
    assert "not reachable" not in line
