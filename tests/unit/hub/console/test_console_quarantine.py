"""The pure rules of the dead-letter quarantine: ids, reasons, placeholders, filters, states."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.audit.store import AuditStore
from hub.console.deadletters import (
    DEADLETTER_CHAIN,
    MAX_REASON,
    DeadLetterFilter,
    DeadLetterId,
    Disposition,
    EditedPayloadError,
    QuarantinedLetter,
    State,
    dispositions,
    required_reason,
    restore_identity_codes,
    selected,
    state_of,
)
from hub.core.errors import ConfigurationError

CODE, OTHER = "131052-930V", "100190-999P"


@pytest.mark.parametrize(
    ("text", "expected"), [("0:0", DeadLetterId(0, 0)), (" 2:15 ", DeadLetterId(2, 15))]
)
def test_dead_letter_ids_parse(text: str, expected: DeadLetterId) -> None:
    assert DeadLetterId.parse(text) == expected
    assert str(expected) == text.strip()
    assert expected.reference == f"hub.deadletter.v1/{expected.partition}/{expected.offset}"


@pytest.mark.parametrize("text", ["", "0", "0:", ":1", "-1:0", "0:-1", "a:1", "0:1:2"])
def test_other_ids_are_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="is not a dead letter"):
        DeadLetterId.parse(text)


def test_a_reason_is_one_to_max_characters() -> None:
    for empty in (None, "", "   "):
        with pytest.raises(ConfigurationError, match="a reason is required"):
            required_reason(empty)
    assert required_reason("x") == "x"
    assert required_reason("y" * MAX_REASON) == "y" * MAX_REASON
    with pytest.raises(ConfigurationError, match=f"{MAX_REASON + 1} characters; at most 500"):
        required_reason("z" * (MAX_REASON + 1))
    assert required_reason(f"asked by {CODE}") == "asked by [hetu]"


def test_placeholders_take_the_original_codes_in_order() -> None:
    original = f'{{"a": "{CODE}", "b": "{OTHER}"}}'
    assert restore_identity_codes('{"a": "[hetu]", "b": "[hetu]", "c": 1}', original) == (
        f'{{"a": "{CODE}", "b": "{OTHER}", "c": 1}}'
    )
    assert restore_identity_codes('{"none": 1}', original) == '{"none": 1}'
    with pytest.raises(EditedPayloadError, match=r"1 identity code place\(s\)"):
        restore_identity_codes('{"a": "[hetu]"}', original)
    with pytest.raises(EditedPayloadError, match=r"3 identity code place\(s\)"):
        restore_identity_codes("[hetu][hetu][hetu]", original)


def _letter(
    partition: int, offset: int, reason: str, topic: str | None, minute: int
) -> QuarantinedLetter:
    headers = {"hub-dlq-reason": reason, "hub-dlq-detail": f"about {CODE}"}
    if topic is not None:
        headers |= {
            "hub-source-topic": topic,
            "hub-source-partition": "1",
            "hub-source-offset": "9",
        }
    else:
        headers |= {"hub-source-file": "kela.txt", "hub-source-line": "4"}
    moment = dt.datetime(2025, 3, 1, 8, minute, tzinfo=dt.UTC)
    return QuarantinedLetter(
        id=DeadLetterId(partition, offset), timestamp=moment, headers=headers, value=CODE.encode()
    )


def test_letters_show_only_masked_text() -> None:
    kafka, file = (
        _letter(0, 1, "bad-date", "in.lahti.client-status", 0),
        _letter(0, 2, "x", None, 0),
    )
    assert kafka.detail == "about [hetu]"
    assert kafka.masked_value == "[hetu]"
    assert kafka.source == "in.lahti.client-status[1]@9"
    assert file.source == "kela.txt:4"
    assert file.source_topic is None


def test_filters_select_at_their_boundaries(audit_store: AuditStore) -> None:
    a = _letter(0, 1, "bad-date", "in.lahti.client-status", 0)
    b = _letter(0, 2, "malformed-json", "in.ph.client-status", 1)
    c = _letter(1, 0, "bad-date", "in.ph.client-status", 2)
    letters = [a, b, c]
    store = audit_store
    close = AuditDraft(
        Direction.CLOSED,
        b"",
        "hub.deadletter.v1",
        0,
        2,
        EventFacts(detail='{"by": "olli", "reason": "junk"}'),
        replay_of=b.id.reference,
    )
    store.append([(DEADLETTER_CHAIN, close)])
    # Another chain naming the same dead letter is not an operator's decision.
    store.append([("replay", AuditDraft(Direction.CLOSED, b"", replay_of=a.id.reference))])
    known = dispositions(store)
    assert set(known) == {b.id}
    assert (known[b.id].state, known[b.id].by, known[b.id].reason) == (State.CLOSED, "olli", "junk")
    assert state_of(a.id, known) is State.OPEN

    def ids(wanted: DeadLetterFilter) -> list[DeadLetterId]:
        return [letter.id for letter in letters if selected(letter, known, wanted)]

    assert ids(DeadLetterFilter()) == [a.id, b.id, c.id]
    assert ids(DeadLetterFilter(reason="bad-date")) == [a.id, c.id]
    assert ids(DeadLetterFilter(source_topic="in.ph.client-status")) == [b.id, c.id]
    assert ids(DeadLetterFilter(state=State.OPEN)) == [a.id, c.id]
    assert ids(DeadLetterFilter(state=State.CLOSED)) == [b.id]
    # Half-open windows: from inclusive, to exclusive.
    assert ids(DeadLetterFilter(since=b.timestamp)) == [b.id, c.id]
    assert ids(DeadLetterFilter(until=b.timestamp)) == [a.id]
    assert ids(DeadLetterFilter(since=b.timestamp, until=c.timestamp)) == [b.id]


def test_decisions_are_read_whole_and_only_from_the_operators_chain(
    audit_store: AuditStore,
) -> None:
    first, second, third = DeadLetterId(0, 1), DeadLetterId(2, 30), DeadLetterId(1, 4)

    def decision(
        direction: Direction, letter: str, detail: str | None, **where: object
    ) -> AuditDraft:
        return AuditDraft(
            direction,
            b"{}",
            where.get("topic"),
            where.get("partition"),
            where.get("offset"),
            EventFacts(detail=detail),
            replay_of=letter,
            recorded_at=f"2025-03-01T08:00:{len(drafts):02}.000000Z",
        )

    drafts: list[AuditDraft] = []
    for draft in (
        # Not decisions: a record naming no dead letter, an output that names one.
        (Direction.CLOSED, None, '{"by": "x", "reason": "y"}', {}),
        (Direction.PRODUCED, DeadLetterId(5, 5).reference, '{"by": "x", "reason": "y"}', {}),
        # Unreadable ones are passed over, not the end of the reading.
        (Direction.CLOSED, "hub.deadletter.v1/zero/1", '{"by": "x", "reason": "y"}', {}),
        (Direction.CLOSED, third.reference, "not json", {}),
        (
            Direction.RESUBMITTED,
            first.reference,
            '{"by": "olli", "reason": "fixed", "edited": true}',
            {"topic": "in.lahti.client-status", "partition": 2, "offset": 17},
        ),
        (Direction.CLOSED, second.reference, None, {}),
    ):
        direction, letter, detail, where = draft
        drafts.append(decision(direction, letter, detail, **where))
    audit_store.append([(DEADLETTER_CHAIN, d) for d in drafts])
    # A decision's shape on another chain is none: only operators write the decisions' chain.
    elsewhere = decision(Direction.CLOSED, DeadLetterId(7, 7).reference, '{"by": "x"}')
    audit_store.append([("hub.example/in.example/0", elsewhere)])
    known = dispositions(audit_store)
    assert known == {
        first: Disposition(
            State.RESUBMITTED,
            "2025-03-01T08:00:04.000000Z",
            "olli",
            "fixed",
            "in.lahti.client-status[2]@17",
        ),
        second: Disposition(State.CLOSED, "2025-03-01T08:00:05.000000Z", "", "", None),
    }
