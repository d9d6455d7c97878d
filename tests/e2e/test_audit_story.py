"""The audit log of a real run, as an auditor uses it, on SQLite and on PostgreSQL.

``hub up`` runs as a separate process on its local Apache Kafka. A jobseeker's status changes,
a referral to Päijät-Sote, a dead-lettered message and an event nobody may receive go through
it. Then the auditor's commands run against what it recorded: the audit stream on
``hub.audit.v1`` carries no identity code, ``verify`` holds, ``disclosures`` lists exactly what
reached the partner topics, ``replay`` re-publishes the person's events in order and marked,
``export`` verifies offline (and fails once tampered with), and ``recompute`` finds today's
translations unchanged.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from schemas.person_ref import person_ref_for
from tests.e2e.conftest import RunningHub, run_hub
from tests.e2e.test_authorities_story import JOBSEEKER, SECRET, _referral, _status
from tests.integration.conftest import create_topic, read_topic
from tests.support import CODE, benefit_day_event, send_each

pytestmark = [pytest.mark.e2e, pytest.mark.audit]

StartHub = Callable[..., RunningHub]
CLIENT_STATUS = "fi.paijathame.hub.client-status.v1"
AUDIT_RECORD = b"application/vnd.paijathame.audit-record+json"


def test_an_auditor_checks_a_real_run(
    start_hub: StartHub, tmp_path: Path, audit_dsn: str | None
) -> None:
    extra = {"HUB_PSEUDONYM_SECRET": SECRET, "HUB_AUDIT_CHECKPOINT_INTERVAL_S": "1"}
    if audit_dsn is not None:
        extra["HUB_AUDIT_DSN"] = audit_dsn
    hub = start_hub(**extra)
    hub.wait_ready()
    run = asyncio.run
    ktt = {"koodi": "KTT", "alkaa": "2025-04-01", "paattyy": None}
    outside_area = benefit_day_event(home_municipality="091").model_dump_json().encode()
    run(send_each(hub.bootstrap, [
        ("in.lahti.client-status", None, _status("m-1", "398", "02", "2025-03-01")),
        ("in.lahti.service-referral", None,
         _referral("L-2025-1", JOBSEEKER, "lahti", "sote", "KUNTOUTTAVA_TYOTOIMINTA")),
        ("in.lahti.client-status", None, _status("m-4", "398", "06", "2025-05-01")),  # retired
        ("hub.benefit-day.v1", None, outside_area),  # Helsinki: nobody may receive it
    ]))  # fmt: skip
    run(read_topic(hub.bootstrap, "out.sote.service-referral", until=bool))
    run(send_each(hub.bootstrap, [
        ("in.lahti.client-status", None, _status("m-2", "398", "07", "2025-04-01", ktt,
                                                 at="2025-04-01T08:00:00+03:00")),
    ]))  # fmt: skip
    partner_topics = ("out.kela.client-status", "out.sote.client-status",
                      "out.sote.service-referral")  # fmt: skip
    wanted = {"out.kela.client-status": 2, "out.sote.client-status": 1,
              "out.sote.service-referral": 1}  # fmt: skip
    received = {
        topic: run(read_topic(hub.bootstrap, topic, until=lambda r, n=n: len(r) >= n))
        for topic, n in wanted.items()
    }
    assert {t: len(r) for t, r in received.items()} == wanted

    # The audit stream: every record, no identity code anywhere in it. The checkpoint anchors
    # on the same topic are told apart by their content type.
    def is_record(message: ConsumerRecord[bytes, bytes]) -> bool:
        return dict(message.headers).get("content-type") == AUDIT_RECORD

    def produced(records: list[ConsumerRecord[bytes, bytes]]) -> int:
        return sum(
            is_record(r) and json.loads(r.value or b"")["direction"] == "produced" for r in records
        )

    # 3 canonical events (m-1, m-2, the referral) and 4 partner messages.
    stream = run(read_topic(hub.bootstrap, "hub.audit.v1", until=lambda r: produced(r) >= 7))
    for message in stream:
        for part in (message.key or b"", message.value or b"", *(v for _, v in message.headers)):
            assert JOBSEEKER.encode() not in part
            assert CODE.encode() not in part
    directions = Counter(json.loads(m.value)["direction"] for m in stream if is_record(m))
    assert directions["dead-lettered"] == 1
    assert directions["not-routed"] == 1
    assert directions["produced"] == 7

    # Replay the jobseeker's client-status events to a topic of the auditor's.
    target = run(create_topic(hub.bootstrap, "audit-replay-e2e", 1))
    replayed = run_hub("audit", "replay", "--to-topic", target, "--person", JOBSEEKER,
                       "--type", CLIENT_STATUS, env=hub.env)  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 2 event(s)" in replayed.stdout
    copies = run(read_topic(hub.bootstrap, target, until=lambda r: len(r) >= 2))
    canonical = run(read_topic(hub.bootstrap, "hub.client-status.v1", until=lambda r: len(r) >= 2))
    originals = [json.loads(r.value or b"")["id"] for r in canonical]
    assert [dict(c.headers)["hub-replay-of"].decode() for c in copies] == originals
    assert [json.loads(c.value)["id"] for c in copies] == originals
    assert JOBSEEKER not in replayed.stdout + replayed.stderr

    assert hub.stop() == 0

    verified = run_hub("audit", "verify", env=hub.env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert ": holds" in verified.stdout

    # Disclosures: exactly the partner messages about the jobseeker, with their basis.
    listed = run_hub("audit", "disclosures", "--person", JOBSEEKER, "--format", "json",
                     env=hub.env)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    disclosures = json.loads(listed.stdout)
    person = person_ref_for(JOBSEEKER, SECRET.encode())
    on_topics = Counter(
        topic for topic in partner_topics for r in received[topic] if r.key == person.encode()
    )
    assert Counter(d["topic"] for d in disclosures) == on_topics
    assert {d["partner"] for d in disclosures} == {"kela", "sote"}
    assert all(d["legal_basis"] and d["fields"] for d in disclosures)
    [to_sote] = [d for d in disclosures if d["topic"] == "out.sote.client-status"]
    assert "person_id" in to_sote["fields"]
    assert "home_municipality" not in to_sote["fields"]
    assert JOBSEEKER not in listed.stdout
    as_csv = run_hub("audit", "disclosures", "--person", JOBSEEKER, "--format", "csv",
                     env=hub.env)  # fmt: skip
    assert as_csv.stdout.splitlines()[0].startswith("when,partner,topic,event_id")
    assert len(as_csv.stdout.splitlines()) == len(disclosures) + 1

    # Export, verify offline with the auditors' copy of the public key, then tamper.
    export = tmp_path / "export"
    public_key = tmp_path / "data0" / "audit-signing.pub"
    exported = run_hub("audit", "export", "--out", str(export), env=hub.env)
    assert exported.returncode == 0, exported.stderr
    offline = run_hub("audit", "verify", "--export", str(export), "--public-key",
                      str(public_key), env=hub.env)  # fmt: skip
    assert offline.returncode == 0, offline.stdout + offline.stderr
    lines = (export / "records.jsonl").read_text().splitlines()
    forged = json.loads(lines[3])
    forged["partner"] = "ph"
    lines[3] = json.dumps(forged)
    (export / "records.jsonl").write_text("\n".join(lines) + "\n")
    tampered = run_hub("audit", "verify", "--export", str(export), "--public-key",
                       str(public_key), env=hub.env)  # fmt: skip
    assert tampered.returncode == 1
    assert f"record {forged['seq']}: changed" in tampered.stderr

    # Today's translations give what was recorded.
    recomputed = run_hub("audit", "recompute", env=hub.env, timeout=120)
    assert recomputed.returncode == 0, recomputed.stdout + recomputed.stderr
    assert "; 0 differ" in recomputed.stdout
