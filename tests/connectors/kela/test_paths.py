"""The topic route and the file path apply the same Kela rules, from the same settings.

``in.kela.benefit-day`` is translated by the route ``hub up`` runs (``build_routes``); a file
goes through ``connectors.kela.file_ingest.ingest_file``. Both take ``HUB_KELA_DATA_START`` from the
settings and the same ledger, so a correction is checked against its record whichever way
each of them came.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Final

from connectors import CONNECTORS
from connectors.kela.file_ingest import NOT_ROUTED, IngestSummary, ingest_file
from connectors.kela.inbound import event_id_for
from connectors.kela.intake import Intake
from connectors.kela.ledger import BenefitLedger
from connectors.kela.native import HEADER
from connectors.kela.wiring import build_routes
from hub.app.runtime import contract_book_for
from hub.connector import ConnectorContext
from hub.core.settings import HubSettings, load_settings
from hub.routing.pipeline import Accepted
from schemas.envelope import BenefitDayEvent
from schemas.rejection import Rejection
from tests.publishers import RecordingPublisher
from tests.support import CODE, SECRET

RECORD: Final = f"K2025-000000001;{CODE};398;TMT;01.02.2025;28.02.2025;20;737,55;120;03.03.2025;"
LINES: Final = (
    RECORD,
    # taken back in full, by a correction that states the municipality the person moved to
    f"K2025-000000002;{CODE};098;TMT;01.02.2025;28.02.2025;-20;-737,55;100;17.03.2025;"
    "K2025-000000001",
    # one day too many
    f"K2025-000000003;{CODE};398;TMT;01.02.2025;28.02.2025;-1;0,00;99;24.03.2025;K2025-000000001",
    # a record paid before the hub's data start
    f"K2025-000000004;{CODE};398;TMT;01.12.2024;31.12.2024;-1;-36,88;99;15.01.2025;K2024-1",
    # 25 days in one day
    f"K2025-000000005;{CODE};398;TMT;28.02.2025;28.02.2025;25;921,94;3;03.03.2025;",
)
OUTCOMES: Final = ["398", "398", "over-correction", "398", "implausible-record"]


def _settings(data_dir: Path) -> HubSettings:
    return load_settings(data_dir=data_dir, kela_data_start=dt.date(2025, 1, 1))


def test_the_route_applies_the_rules(tmp_path: Path) -> None:
    [route] = build_routes(ConnectorContext(_settings(tmp_path), SECRET))
    outcomes = []
    for line in LINES:
        result = route.translate(line.encode())
        if isinstance(result, Rejection):
            outcomes.append(result.reason)
            continue
        assert isinstance(result, Accepted)
        result.settle()
        v2, v1 = result.messages
        assert (v2.topic, v1.topic) == ("hub.benefit-day.v2", "hub.benefit-day.v1")
        assert v2.event_id == v1.event_id
        event = BenefitDayEvent.model_validate_json(v1.value)
        outcomes.append(event.data.home_municipality)
    assert outcomes == OUTCOMES


def test_the_file_path_applies_the_same_rules(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    path = tmp_path / "kela.csv"
    path.write_text("\r\n".join([HEADER, *LINES]) + "\r\n", encoding="utf-8")
    ledger = BenefitLedger.open(settings.data_dir, SECRET)
    intake = Intake(ledger, SECRET, settings.kela_data_start)
    publisher = RecordingPublisher()
    book = contract_book_for(settings, CONNECTORS)
    summary: IngestSummary = asyncio.run(ingest_file(path, intake, book, publisher))
    published = [sent.value for sent in publisher.committed]
    ledger.close()
    assert (summary.accepted, summary.corrections, summary.rejected) == (3, 2, 2)
    assert [(r.line, r.reason) for r in summary.rejections] == [
        (4, "over-correction"),
        (6, "implausible-record"),
    ]
    assert summary.recipients["lahti"] == 3
    events = [
        BenefitDayEvent.model_validate_json(value)
        for value in published
        if b'"type":"fi.paijathame.hub.benefit-day.v1"' in value
    ]
    assert [e.data.home_municipality for e in events] == ["398", "398", "398"]
    assert [e.data.corrects_unseen_record for e in events] == [False, False, True]


def test_a_file_and_the_topic_share_one_ledger(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    [route] = build_routes(ConnectorContext(settings, SECRET))
    taken = route.translate(RECORD.encode())
    assert isinstance(taken, Accepted)
    taken.settle()
    path = tmp_path / "kela.csv"
    path.write_text("\n".join([HEADER, LINES[1], LINES[2]]) + "\n", encoding="utf-8")
    ledger = BenefitLedger.dry_run(settings.data_dir, SECRET, scratch_dir=tmp_path)
    intake = Intake(ledger, SECRET, settings.kela_data_start)
    book = contract_book_for(settings, CONNECTORS)
    summary = asyncio.run(ingest_file(path, intake, book, None))
    ledger.close()
    assert summary.accepted == 1
    assert [r.reason for r in summary.rejections] == ["over-correction"]


def test_a_general_support_line_in_a_file_is_published_on_v2_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    path = tmp_path / "kela.csv"
    ylt = f"K2026-000000001;{CODE};398;YLT;04.05.2026;29.05.2026;20;744,20;210;02.06.2026;"
    path.write_text("\n".join([HEADER, ylt, RECORD]) + "\n", encoding="utf-8")
    ledger = BenefitLedger.open(settings.data_dir, SECRET)
    publisher = RecordingPublisher()
    book = contract_book_for(settings, CONNECTORS)
    summary = asyncio.run(ingest_file(path, Intake(ledger, SECRET), book, publisher))
    published = [(m.topic, m.headers["correlation_id"]) for m in publisher.committed]
    ledger.close()
    assert (summary.accepted, summary.rejected) == (2, 0)
    ylt_id, tmt_id = event_id_for("K2026-000000001"), event_id_for("K2025-000000001")
    assert published == [
        ("hub.benefit-day.v2", ylt_id),
        ("hub.benefit-day.v2", tmt_id),
        ("hub.benefit-day.v1", tmt_id),
    ]
    # Lahti's contract names v1: it receives the TMT record, and the YLT one not yet.
    assert summary.recipients == {"lahti": 1, NOT_ROUTED: 1}
