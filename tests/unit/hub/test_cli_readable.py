"""What a newcomer reads from the CLI: one clean error line, readable output at 80 columns."""

from __future__ import annotations

import pytest

from hub.audit import open_store
from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.cli import main
from hub.settings import load_settings, pseudonym_secret
from schemas.person_ref import person_ref_for

CODE = "131052-930V"
EVENT_ID = "0b9d3c4e-7f61-5a2b-9c8d-1e2f3a4b5c6d"
FIELDS = (
    "authority",
    "person_id",
    "employment_status",
    "status_since",
    "job_search_active",
    "service",
    "changed_at",
)
BASIS = "Työttömyysturvalaki (1290/2002), 11 luku 4 §"

pytestmark = pytest.mark.usefixtures("restore_logging", "cli_env")


def test_an_unknown_partner_is_one_clean_line_and_a_usage_exit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["contracts", "show", "foo"]) == 2
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert lines == [
        "hub: error: unknown partner 'foo': expected one of lahti, ph, kela, sote, keha"
    ]
    assert captured.out == ""


def test_a_known_partner_is_still_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "show", "kela"]) == 0
    assert capsys.readouterr().out.startswith("kela: Kela")


def _record_disclosures(count: int) -> None:
    settings = load_settings()
    person = person_ref_for(CODE, pseudonym_secret(settings))
    store = open_store(settings)
    try:
        facts = EventFacts(
            EVENT_ID, "fi.paijathame.hub.client-status.v1", person, "kela", BASIS, FIELDS
        )
        store.append(
            [
                ("in.lahti.client-status/0", AuditDraft(
                    Direction.PRODUCED, b"<x/>", "out.kela.client-status", 0, n, facts,
                    recorded_at=f"2025-03-01T06:12:0{n}.000000Z",
                ))
                for n in range(count)
            ]
        )  # fmt: skip
    finally:
        store.close()


@pytest.mark.parametrize("count", [0, 1, 2])
def test_disclosures_read_at_80_columns_with_every_value_whole(
    capsys: pytest.CaptureFixture[str], count: int
) -> None:
    _record_disclosures(count)
    assert main(["audit", "disclosures", "--person", CODE]) == 0
    text = capsys.readouterr().out
    assert CODE not in text
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, text
    assert lines[-1] == f"{count} disclosure(s)"
    # Whole values, each on its line: an event id is copied from here.
    assert sum(1 for line in lines if line == f"  event   {EVENT_ID}") == count
    assert sum(1 for line in lines if line == f"  basis   {BASIS}") == count
    assert sum(1 for line in lines if "to kela on out.kela.client-status" in line) == count
    shown_fields = " ".join(lines).replace(",", " ").split()
    for field in FIELDS:
        assert shown_fields.count(field) == count
