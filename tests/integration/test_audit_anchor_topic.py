"""The rollback attack against the audit topic: every checkpoint is anchored on the real
``hub.audit.v1`` of a real Apache Kafka, the insider cuts the database back to checkpoint 1
of 12, and ``hub audit verify`` reads the anchors back and fails naming what is missing.
Both real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from hub.admin.provisioning import provision_topics
from hub.audit.anchors import CheckpointAnchor, read_topic_anchors
from hub.audit.recorder import AuditRecorder
from hub.audit.signing import fingerprint, load_or_create_signing_key
from hub.audit.store import open_audit_store
from hub.audit.stream import anchor_round, audit_topic_sender, publish_pending
from hub.broker.connection import KafkaConnection
from hub.broker.faststream_broker import build_kafka_broker
from hub.cli import main
from hub.console.app import create_app
from hub.console.users import Role, UserStore
from hub.core.settings import load_settings
from hub.core.topics import AUDIT_TOPIC
from tests.audit.tampering import (
    CHAINS,
    PER_ROUND,
    ROUNDS,
    Insider,
    fill_rounds,
    recorder_for,
    roll_back,
)
from tests.console_pages import PASSWORD, console_context, sign_in, verified

pytestmark = [
    pytest.mark.integration,
    pytest.mark.audit,
    pytest.mark.usefixtures("restore_logging"),
]


async def _publish_and_anchor(recorder: AuditRecorder, bootstrap: str, data_dir: Path) -> None:
    """What ``hub up``'s housekeeping does: the records, then the anchors, on the topic."""
    connection = KafkaConnection(bootstrap, load_settings(data_dir=data_dir))
    await provision_topics(connection)
    broker = build_kafka_broker(connection)
    await broker.connect()
    try:
        send = audit_topic_sender(broker.publish)
        await publish_pending(recorder, send)
        assert await anchor_round(recorder, send) == ROUNDS
    finally:
        await broker.stop()


def _console_verify(data_dir: Path, audit_dsn: str | None, key: Ed25519PrivateKey) -> str:
    """The console's verify fragment, as an auditor gets it from ``hub up``'s console."""
    settings = load_settings(data_dir=data_dir)
    users = UserStore.open(data_dir)
    users.add("aino", Role.AUDITOR, PASSWORD)
    recorder = AuditRecorder(open_audit_store(data_dir, audit_dsn), key)
    context = console_context(settings, recorder, users, key.public_key())
    try:
        with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
            sign_in(client, "aino")
            return verified(client)
    finally:
        recorder.store.close()
        users.close()


def test_a_store_rolled_back_behind_its_topic_anchor_fails_verify(
    kafka_bootstrap: str,
    audit_dsn: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", kafka_bootstrap)
    if audit_dsn is not None:
        monkeypatch.setenv("HUB_AUDIT_DSN", audit_dsn)
    key = load_or_create_signing_key(None, data_dir, may_generate=True)
    store = open_audit_store(data_dir, audit_dsn)
    try:
        recorder = recorder_for(store, key)
        fill_rounds(recorder)
        asyncio.run(_publish_and_anchor(recorder, kafka_bootstrap, data_dir))

        connection = KafkaConnection(kafka_bootstrap, load_settings(data_dir=data_dir))
        read: list[CheckpointAnchor] = []
        assert asyncio.run(read_topic_anchors(connection, read.append)) == len(read)
        mine = [a for a in read if f'"key":"{fingerprint(key.public_key())}"' in a.body]
        assert [a.checkpoint for a in mine] == list(range(1, ROUNDS + 1))
        assert {a.source for a in mine} == {AUDIT_TOPIC}

        assert main(["audit", "verify"]) == 0
        held = capsys.readouterr()
        assert f"held against checkpoint {ROUNDS} anchored on {AUDIT_TOPIC}" in held.out
        page = _console_verify(data_dir, audit_dsn, key)
        assert "Holds" in page
        assert f"Held against checkpoint {ROUNDS} anchored on {AUDIT_TOPIC}" in page

        with Insider(data_dir, audit_dsn) as insider:
            roll_back(insider, 1)
    finally:
        store.close()

    assert main(["audit", "verify"]) == 1
    failed = capsys.readouterr()
    missing = len(CHAINS) * PER_ROUND * (ROUNDS - 1)
    assert (
        f"the audit store is behind its anchor on {AUDIT_TOPIC}: {missing} record(s) and "
        f"{ROUNDS - 1} checkpoint(s) missing"
    ) in failed.err
    assert f"audit store: behind-anchor: behind its anchor on {AUDIT_TOPIC}" in failed.err
    assert "Traceback" not in failed.err
    # The console holds the store against the same anchors.
    page = _console_verify(data_dir, audit_dsn, key)
    assert "FAILS" in page
    assert f"audit store: behind-anchor: behind its anchor on {AUDIT_TOPIC}" in page

    # The same store without the topic: nothing outside the database, so it "holds".
    assert main(["audit", "verify", "--no-anchor-topic"]) == 0
    assert "note: no anchor found" in capsys.readouterr().err
