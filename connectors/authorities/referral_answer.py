"""An authority's answer to an integration-training referral: JSON bytes → status update →
canonical event.

Integration training (``KOTOUTUMISKOULUTUS``) is referred from one authority to the other. The
receiving authority answers on ``in.<authority>.referral-status`` with the referral-status JSON
the sending authority receives from the hub (``lahete_id``, ``tila``, ``syy``, ``aika``)::

    {"lahete_id": "L-2025-000871", "tila": "HYVAKSYTTY", "syy": null,
     "aika": "2025-03-20T09:30:00+02:00"}

:func:`parse_answer` reads one; :func:`answer_event` makes the canonical referral-status event
once the hub has found the referral it answers (whose sender is always the other authority).
Whether the referral exists, was sent to this authority, and whether its history allows the
state are the wiring's questions (``connectors.authorities.wiring``), not this module's.

Pure: no broker, no database, no clock, no logging. Things this module must never do:

* raise on partner bytes: every message becomes an :class:`Answer` or a ``Rejection`` with a
  stable ``reason`` (see :data:`ANSWER_REASONS`);
* quote the referral id, the reason or the time in a rejection ``detail``: an id can be, or
  hide, an identity code, and ``syy`` is free text;
* guess: a ``tila`` outside the six, a time without an offset, a key the document does not
  show is a rejection.

Decisions beyond the interface document:

* The message has exactly the four keys of the document, as the other messages of the
  authorities do: ``syy`` must be present and may be ``null``; an empty or blank ``syy`` is
  no reason (``None``), as on the way out.
* ``aika`` is an RFC 3339 date-time with an offset within ±14:00, like ``muutettu``; it keeps
  its offset.
* Checks run in this order and the first failure is reported: encoding, JSON, duplicate
  keys, missing keys, unknown keys, ``lahete_id``, ``tila``, ``syy``, ``aika``.
* :func:`answer_event_id` hashes the referral's sender, its id, the state and ``aika`` as a UTC
  instant, like Päijät-Sote's Task ids: a redelivered answer gets the same event id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from connectors._refusal import Refusal, refuse
from connectors._strict_json import MALFORMED_JSON, NOT_UTF8, json_object
from connectors.authorities.inbound import (
    BAD_IDENTIFIER,
    BAD_TIMESTAMP,
    DUPLICATE_FIELD,
    EVENT_ID_NAMESPACE,
    MISSING_FIELD,
    UNKNOWN_FIELD,
    WRONG_FIELD_TYPE,
    _check_keys,
    _identifier,
    _optional_string,
    _string,
    _timestamp,
    source_for,
)
from connectors.authorities.native import REFERRAL_ID_MAX_LENGTH, REFERRAL_STATES
from hub.core.redaction import shown_value
from schemas.codes import Authority, Partner, ReferralState
from schemas.envelope import ReferralStatusEvent, dataschema_for
from schemas.referral_status import REFERRAL_STATUS_V1, ReferralStatus
from schemas.rejection import Rejection

__all__ = [
    "ANSWER_FIELDS",
    "ANSWER_REASONS",
    "ILLEGAL_TRANSITION",
    "NOT_THE_RECIPIENT",
    "ROUTE_REASONS",
    "UNKNOWN_REFERRAL",
    "UNKNOWN_REFERRAL_STATE",
    "Answer",
    "answer_event",
    "answer_event_id",
    "other_authority",
    "parse_answer",
]

UNKNOWN_REFERRAL_STATE: Final = "unknown-referral-state"
UNKNOWN_REFERRAL: Final = "unknown-referral"
NOT_THE_RECIPIENT: Final = "not-the-recipient"
ILLEGAL_TRANSITION: Final = "illegal-transition"

#: The keys of an answer, in the document's order; all are required (``syy`` may be null).
ANSWER_FIELDS: Final[tuple[str, ...]] = ("lahete_id", "tila", "syy", "aika")

_STATES: Final = {finnish: state for state, finnish in REFERRAL_STATES.items()}

#: Every reason :func:`parse_answer` can give, with its meaning.
ANSWER_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        NOT_UTF8: "the message is not valid UTF-8",
        MALFORMED_JSON: "the message is not a JSON object (not JSON, another JSON value, a "
        "byte-order mark, or nested too deeply)",
        DUPLICATE_FIELD: "a key appears more than once in one JSON object",
        MISSING_FIELD: "a required key is absent (syy too: it may be null, not absent)",
        UNKNOWN_FIELD: "a key other than lahete_id, tila, syy, aika is present",
        WRONG_FIELD_TYPE: "a value has the wrong JSON type (e.g. a number for a string)",
        BAD_IDENTIFIER: "lahete_id is empty, longer than 50 characters or has spaces",
        UNKNOWN_REFERRAL_STATE: "tila is not one of VASTAANOTETTU, HYVAKSYTTY, HYLATTY, "
        "ALKANUT, PAATTYNYT, PERUTTU",
        BAD_TIMESTAMP: "aika is not an RFC 3339 date-time with an offset within ±14:00",
    }
)

#: The reasons the hub adds once the answer is read: the referral and its history.
ROUTE_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        UNKNOWN_REFERRAL: "the hub carried no referral with this lahete_id",
        NOT_THE_RECIPIENT: "the hub carried a referral with this lahete_id, but not from the "
        "other authority to the one answering (it went to Päijät-Sote, or the answering "
        "authority sent it itself)",
        ILLEGAL_TRANSITION: "the referral's history does not allow this tila (e.g. PAATTYNYT "
        "after HYLATTY)",
    }
)

_EVENT_ID_PREFIX: Final = "authorities.referral-status:"


@dataclass(frozen=True, slots=True)
class Answer:
    """One status update of an integration-training referral, from the authority that
    received it; ``at`` is ``aika`` with its own offset."""

    referral_id: str
    state: ReferralState
    reason: str | None
    at: dt.datetime


def other_authority(authority: Authority) -> Authority:
    """The authority that is not ``authority``: the sender of any referral it receives."""
    return Authority.PH if authority is Authority.LAHTI else Authority.LAHTI


def _state(obj: Mapping[str, object]) -> ReferralState:
    text = _string(obj, "tila")
    state = _STATES.get(text)
    if state is None:
        refuse(
            UNKNOWN_REFERRAL_STATE, f"tila {shown_value(text)} is not one of {', '.join(_STATES)}"
        )
    return state


def _answer_from(obj: dict[str, object]) -> Answer:
    _check_keys(obj, ANSWER_FIELDS, frozenset(), "")
    referral_id = _identifier(obj, "lahete_id", REFERRAL_ID_MAX_LENGTH)
    state = _state(obj)
    reason = _optional_string(obj, "syy")
    at = _timestamp(obj, "aika")
    return Answer(referral_id, state, reason if reason and reason.strip() else None, at)


def parse_answer(value: bytes) -> Answer | Rejection:
    """An answer from ``in.<authority>.referral-status``, or why it is rejected."""
    try:
        return _answer_from(json_object(value, duplicate_reason=DUPLICATE_FIELD, shown=shown_value))
    except Refusal as refusal:
        return Rejection(refusal.reason, refusal.detail)


def answer_event_id(answer: Answer, referral_sender: Authority) -> str:
    """The event id of ``answer`` to ``referral_sender``'s referral: the same referral, state
    and instant give the same id (the sender, a fixed word, comes first)."""
    instant = answer.at.astimezone(dt.UTC).isoformat()
    name = (
        f"{_EVENT_ID_PREFIX}{referral_sender.value}/{answer.referral_id}/"
        f"{answer.state.value}/{instant}"
    )
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, name))


def answer_event(
    answer: Answer, authority: Authority, person_ref: str, referral_sender: Authority
) -> ReferralStatusEvent:
    """The canonical referral-status event of ``authority``'s answer.

    ``person_ref`` (the referral's subject) and ``referral_sender`` come from the hub's record
    of the referral: the answer carries neither.
    """
    return ReferralStatusEvent(
        id=answer_event_id(answer, referral_sender),
        source=source_for(authority),
        subject=person_ref,
        time=answer.at,
        dataschema=dataschema_for(REFERRAL_STATUS_V1),
        data=ReferralStatus(
            referral_id=answer.referral_id,
            state=answer.state,
            reason=answer.reason,
            reported_by=Partner(authority.value),
            referral_sender=referral_sender,
            at=answer.at,
        ),
    )
