"""Both major versions of benefit-day: every record on v2, the ones v1 can carry on v1 too.

The intake runs on a real SQLite ledger in a temporary data directory; the messages are the
ones the streaming route (``build_routes``) and ``hub ingest kela`` publish.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from connectors.kela.inbound import event_id_for
from connectors.kela.intake import REASONS, RETIRED_REASONS, Intake, Taken
from connectors.kela.ledger import BenefitLedger
from connectors.kela.versions import as_v1
from connectors.kela.wiring import canonical_messages
from schemas.envelope import BenefitDayEvent, BenefitDayV2Event
from tests.support import CODE, SECRET

V1_TOPIC, V2_TOPIC = "hub.benefit-day.v1", "hub.benefit-day.v2"


def _line(record: str, benefit: str) -> bytes:
    return (
        f"{record};{CODE};398;{benefit};04.05.2026;29.05.2026;20;744,20;210;02.06.2026;"
    ).encode()


@pytest.fixture
def intake(tmp_path: Path) -> Intake:
    return Intake(BenefitLedger.open(tmp_path, SECRET), SECRET)


def _taken(intake: Intake, line: bytes) -> Taken:
    taken = intake.take(line, 2)
    assert isinstance(taken, Taken), taken
    return taken


def test_a_general_support_line_is_accepted_and_published_on_v2_only(intake: Intake) -> None:
    taken = _taken(intake, _line("K2026-000000001", "YLT"))
    messages = canonical_messages(taken.event)
    assert [m.topic for m in messages] == [V2_TOPIC]
    [message] = messages
    event = BenefitDayV2Event.model_validate_json(message.value)
    assert event.data.benefit == "general_support"
    assert event.id == message.event_id == event_id_for("K2026-000000001")
    assert orjson.loads(message.value)["type"] == "fi.paijathame.hub.benefit-day.v2"
    assert message.key == event.subject.encode()
    assert CODE.encode() not in (message.key or b"")


@pytest.mark.parametrize(
    ("code", "benefit"),
    [
        ("TMT", "labour_market_subsidy"),
        ("PPR", "basic_allowance"),
        ("APR", "earnings_related_basic_part"),
    ],
)
def test_a_line_v1_can_carry_goes_to_both_with_the_same_id(
    intake: Intake, code: str, benefit: str
) -> None:
    taken = _taken(intake, _line("K2026-000000002", code))
    messages = canonical_messages(taken.event)
    assert [m.topic for m in messages] == [V2_TOPIC, V1_TOPIC]
    v2 = BenefitDayV2Event.model_validate_json(messages[0].value)
    v1 = BenefitDayEvent.model_validate_json(messages[1].value)
    assert v1.id == v2.id == messages[0].event_id == messages[1].event_id
    assert v1.id == event_id_for("K2026-000000002")
    assert v1.dataschema.endswith("benefit-day.v1")
    assert v2.dataschema.endswith("benefit-day.v2")
    assert (v1.subject, v1.time, v1.source) == (v2.subject, v2.time, v2.source)
    assert v1.data.model_dump(mode="json") == v2.data.model_dump(mode="json")
    assert v1.data.benefit == benefit
    assert messages[0].key == messages[1].key


def test_as_v1_refuses_only_general_support(intake: Intake) -> None:
    ylt = _taken(intake, _line("K2026-000000003", "YLT")).event
    tmt = _taken(intake, _line("K2026-000000004", "TMT")).event
    assert as_v1(ylt) is None
    converted = as_v1(tmt)
    assert converted is not None
    assert converted.type == "fi.paijathame.hub.benefit-day.v1"


def test_a_general_support_correction_is_published_on_v2_only(intake: Intake) -> None:
    _taken(intake, _line("K2026-000000005", "YLT"))
    intake.ledger.commit()
    correction = (
        f"K2026-000000006;{CODE};398;YLT;04.05.2026;29.05.2026;-2;-74,42;208;10.06.2026;"
        "K2026-000000005"
    ).encode()
    taken = _taken(intake, correction)
    [message] = canonical_messages(taken.event)
    assert message.topic == V2_TOPIC
    assert taken.event.data.corrects_event_id == event_id_for("K2026-000000005")


def test_the_retired_reason_is_no_longer_given() -> None:
    assert "benefit-not-in-canonical-schema" in RETIRED_REASONS
    assert "benefit-not-in-canonical-schema" not in REASONS
