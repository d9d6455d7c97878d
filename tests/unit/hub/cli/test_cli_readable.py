"""What a newcomer reads from the CLI: one clean error line, readable output at 80 columns."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hub.audit import open_store
from hub.audit.disclosures import Disclosure, render_text
from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.cli import main
from hub.cli.tail_send import document_messages
from hub.core.settings import load_settings, pseudonym_secret
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


def _disclosure(**changes: object) -> Disclosure:
    base = Disclosure(
        when="2025-03-01T06:12:00.000000Z",
        partner="kela",
        topic="out.kela.client-status",
        event_id=EVENT_ID,
        event_type="fi.paijathame.hub.client-status.v1",
        fields=FIELDS,
        legal_basis=BASIS,
        note="",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_disclosure_block_labels_every_value_and_wraps_under_its_label() -> None:
    text = render_text([_disclosure(note="sent again after a redelivery")])
    assert text == (
        "2025-03-01T06:12:00.000000Z  to kela on out.kela.client-status\n"
        f"  event   {EVENT_ID}\n"
        "  type    fi.paijathame.hub.client-status.v1\n"
        "  fields  authority, person_id, employment_status, status_since,\n"
        "          job_search_active, service, changed_at\n"
        f"  basis   {BASIS}\n"
        "  note    sent again after a redelivery"
    )


def test_blocks_are_separated_by_one_blank_line_and_an_empty_value_keeps_its_label() -> None:
    text = render_text([_disclosure(), _disclosure(partner="sote", legal_basis="")])
    first, second = text.split("\n\n")
    assert "note" not in first
    assert second.splitlines()[0].endswith("to sote on out.kela.client-status")
    assert second.splitlines()[-1] == "  basis"


def test_the_default_width_is_80_columns() -> None:
    # "  fields  " and 71 characters: one line of 81, so wrapped at 80 and not at 81.
    fields = ("x" * 34, "y" * 35)
    wrapped = render_text([_disclosure(fields=fields)]).splitlines()
    assert f"  fields  {'x' * 34}," in wrapped
    assert f"          {'y' * 35}" in wrapped
    assert (
        f"  fields  {'x' * 34}, {'y' * 35}"
        in render_text([_disclosure(fields=fields)], width=81).splitlines()
    )


def test_identifiers_are_never_broken_even_when_longer_than_the_width() -> None:
    lines = render_text([_disclosure()], width=30).splitlines()
    assert f"  event   {EVENT_ID}" in lines
    assert "  type    fi.paijathame.hub.client-status.v1" in lines


@pytest.mark.parametrize(
    ("content", "options", "said"),
    [
        (b"", (), "is empty"),
        (b"", ("--lines",), "is empty"),
        (b" \n\t\r\n", (), "holds only blank lines"),
        (b"\n", ("--lines",), "holds only blank lines"),
        (b"\n\n", ("--lines",), "holds only blank lines"),
    ],
)
def test_sending_an_empty_file_is_one_line_before_any_broker_is_asked(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: bytes,
    options: tuple[str, ...],
    said: str,
) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    empty = tmp_path / "empty.json"
    empty.write_bytes(content)
    assert main(["send", "in.lahti.client-status", str(empty), *options]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"hub: error: nothing to send: {empty} {said}"]


@pytest.mark.parametrize(
    ("data", "messages"),
    [
        (b"", []),
        (b"\n \t\r\n", []),
        (b"x", [b"x"]),
        (b'{\n  "a": 1,\n  "b": [\n    2\n  ]\n}\n', [b'{\n  "a": 1,\n  "b": [\n    2\n  ]\n}']),
        (b"\r\n<x>\r\n  <y/>\r\n</x>\r\n\r\n", [b"<x>\r\n  <y/>\r\n</x>"]),
    ],
)
def test_a_whole_file_is_one_message_without_the_whitespace_around_it(
    data: bytes, messages: list[bytes]
) -> None:
    assert document_messages(data) == messages
