"""``hub share publish`` on real Apache Kafka: a finished month's statements reach each
authority's municipal-share topic, without personal data; an unfinished month is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.cli import main
from hub.core.settings import load_settings, pseudonym_secret
from hub.share.ledger import open_share_ledger, stored_record
from schemas.person_ref import person_ref_for
from tests.integration.conftest import read_topic
from tests.integration.test_kela_flow import CODE_2
from tests.support import CODE, benefit_day_event

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("restore_logging")]


@pytest.fixture
def cli_kafka(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kafka_bootstrap: str) -> Path:
    for name in list(os.environ):
        if name.startswith("HUB_"):
            monkeypatch.delenv(name)
    key = tmp_path / "audit.pem"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key.chmod(0o600)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("HUB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("HUB_PSEUDONYM_SECRET", "integration-test-secret-0123456789abcdef")
    monkeypatch.setenv("HUB_AUDIT_SIGNING_KEY_FILE", str(key))
    monkeypatch.setenv("HUB_LOG_FORMAT", "json")
    return data_dir


def test_finished_month_statements_reach_each_authority(
    cli_kafka: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = pseudonym_secret(load_settings())
    run = uuid.uuid4().hex[:8]
    ledger = open_share_ledger(cli_kafka, None)
    ledger.add(
        stored_record(
            benefit_day_event(person_id=code, record_id=f"P{run}-{n}", home_municipality=town,
                              paid_days=20, amount_paid="744.20", cumulative_days=210,
                              payment_date="2025-04-02").model_copy(
                update={"subject": person_ref_for(code, secret)}
            )
        )
        for n, (code, town) in enumerate([(CODE, "398"), (CODE_2, "098")])
    )  # fmt: skip
    ledger.close()
    assert main(["share", "publish", "--month", "2025-03"]) in {0, 1}  # the topics may be missing
    if "does not exist" in capsys.readouterr().err:
        assert main(["topics", "provision"]) == 0
    assert main(["share", "publish", "--month", "2025-04"]) == 0
    key = b"lahti:2025-04"
    lahti = asyncio.run(read_topic(kafka_bootstrap, "out.lahti.municipal-share",
                             until=lambda r: any(m.key == key for m in r)))  # fmt: skip
    ph = asyncio.run(read_topic(kafka_bootstrap, "out.ph.municipal-share",
                          until=lambda r: any(m.key == b"ph:2025-04" for m in r)))  # fmt: skip
    [statement] = [m for m in lahti if m.key == key][-1:]
    body = orjson.loads(statement.value or b"")
    assert body["month"] == "2025-04"
    assert {(r["municipality"], r["percent"], r["municipal_share"]) for r in body["rows"]} >= {
        ("398", 10, "37.21"),
        ("398", 20, "74.42"),
    }
    assert all(r["municipality"] == "398" for r in body["rows"])
    assert any(m.key == b"ph:2025-04" for m in ph)
    for message in lahti + ph:
        assert CODE.encode() not in (message.value or b"")
        assert CODE_2.encode() not in (message.value or b"")
    assert main(["audit", "verify"]) == 0
    capsys.readouterr()

    this_month = f"{dt.datetime.now(dt.UTC):%Y-%m}"
    assert main(["share", "publish", "--month", this_month]) == 2
    assert "has not ended yet" in capsys.readouterr().err
