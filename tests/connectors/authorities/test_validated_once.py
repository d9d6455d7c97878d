"""Each authority message is validated once, by the parser's checks: the canonical status or
referral and its event are built without pydantic checking them again. These tests hold the
checks and the models together: for generated valid messages, messages with one field of
another kind and broken ones, the direct build gives what validating the native and canonical
models gives (the same model, to the byte, or the same rejection), and the events are the ones
a validating build makes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.authorities.inbound import (
    parse_referral,
    parse_referral_with_models,
    parse_status_change,
    parse_status_change_with_models,
    referral_event,
    status_event,
)
from connectors.authorities.native import REFERRAL_SERVICES, URGENCY
from schemas.client_status import ClientStatus
from schemas.codes import Authority, ServiceCode
from schemas.envelope import ClientStatusEvent, ServiceReferralEvent
from schemas.rejection import Rejection
from schemas.service_referral import ServiceReferral
from tests.fuzz.corpus import authority_documents
from tests.fuzz.json_documents import ABSENT, broken_documents
from tests.strategies import identity_codes
from tests.support import SECRET

_ODD: Final[st.SearchStrategy[Any]] = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.just([])
    | st.just({})
    | st.just(ABSENT)
    | st.sampled_from(
        [
            "",
            " ",
            "A" * 101,
            "A B",
            "398\n",
            "\uff10\uff12",
            "2025-02-30",
            "2025-03-01T08:12:00",
            "06",
        ]
    )
)
_TEXT: Final = st.text(max_size=40)
_IDENTIFIERS: Final = st.from_regex(r"[!-~]{1,50}", fullmatch=True)


@st.composite
def _timestamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)))
    fraction = draw(st.sampled_from(["", ".5", ".123456", ".1234567891"]))
    offset = draw(
        st.sampled_from(["Z", "+02:00", "-03:30", "+14:00", "-14:00"])
        | st.sampled_from(["+14:01", "", "+2"])
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + offset


_AUTHORITIES: Final = st.sampled_from(list(Authority))
_DATES: Final = st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)).map(dt.date.isoformat)


def _other(authority: Authority) -> Authority:
    return Authority.PH if authority is Authority.LAHTI else Authority.LAHTI


def _one_odd(draw: st.DrawFn, message: dict[str, Any]) -> bytes:
    """``message`` as JSON, one field in four of another kind (or removed)."""
    if draw(st.integers(0, 3)) == 3:
        key = draw(st.sampled_from(sorted(message)))
        value = draw(_ODD)
        if value is ABSENT:
            del message[key]
        else:
            message[key] = value
    return orjson.dumps(message)


@st.composite
def notifications(draw: st.DrawFn) -> bytes:
    service = draw(
        st.none()
        | st.fixed_dictionaries(
            {"koodi": st.sampled_from([c.value for c in ServiceCode]), "alkaa": _DATES},
            optional={"paattyy": st.none() | _DATES},
        )
    )
    message = draw(
        st.fixed_dictionaries(
            {
                "muutosId": _IDENTIFIERS,
                "asiakasnumero": _IDENTIFIERS,
                "hetu": identity_codes(),
                "kotikunta": st.from_regex(r"[0-9]{3}", fullmatch=True),
                "tyollisyystilanne": st.sampled_from(["00", "01", "02", "03", "05", "09"]),
                "tilanneAlkaa": _DATES,
                "tyonhakuVoimassa": st.booleans(),
                "palvelu": st.just(service),
                "muutettu": _timestamps(),
            },
            optional={"vastuuvirkailija": st.none() | _TEXT, "muistiinpano": st.none() | _TEXT},
        )
    )
    return _one_odd(draw, message)


@st.composite
def referrals(draw: st.DrawFn) -> tuple[bytes, Authority]:
    """A referral, and the authority on whose topic it came (mostly its sender)."""
    authority = draw(_AUTHORITIES)
    service = draw(st.sampled_from(sorted(REFERRAL_SERVICES)))
    recipient = "sote" if service != "KOTOUTUMISKOULUTUS" else _other(authority).value
    message = draw(
        st.fixed_dictionaries(
            {
                "lahete_id": _IDENTIFIERS,
                "hetu": identity_codes(),
                "lahettaja": st.just(authority.value) | st.sampled_from(["lahti", "ph"]),
                "vastaanottaja": st.just(recipient) | st.sampled_from(["sote", "lahti", "ph"]),
                "palvelu": st.just(service),
                "perustelu": _TEXT,
                "kiireellisyys": st.sampled_from(sorted(URGENCY)),
                "toivottu_alku": _DATES,
                "suostumus": st.just(True) | st.booleans(),
                "lahetetty": _timestamps(),
            }
        )
    )
    return _one_odd(draw, message), authority


def _same_as_validated(
    fast: ClientStatus | ServiceReferral | Rejection,
    validated: ClientStatus | ServiceReferral | Rejection,
    event_of: Callable[[Any, bytes], ClientStatusEvent | ServiceReferralEvent],
) -> None:
    """The direct build is the validating one's; an accepted model and its event validate
    unchanged."""
    assert fast == validated
    if isinstance(fast, Rejection):
        return
    assert not isinstance(validated, Rejection)
    assert fast.model_dump_json() == validated.model_dump_json()
    assert type(fast) is type(validated)
    assert type(fast).model_validate(fast.model_dump()) == fast
    event = event_of(fast, SECRET)
    again = type(event).model_validate(event.model_dump())
    assert again == event
    assert again.model_dump_json() == event.model_dump_json()


@settings(max_examples=400)
@given(notifications() | broken_documents(authority_documents("client-status")).map(
    lambda broken: broken.raw
), _AUTHORITIES)  # fmt: skip
def test_a_status_change_builds_as_the_models_build_it(value: bytes, authority: Authority) -> None:
    _same_as_validated(
        parse_status_change(value, authority),
        parse_status_change_with_models(value, authority),
        status_event,
    )


@settings(max_examples=400)
@given(referrals() | st.tuples(
    broken_documents(authority_documents("service-referral")).map(lambda broken: broken.raw),
    _AUTHORITIES,
))  # fmt: skip
def test_a_referral_builds_as_the_models_build_it(message: tuple[bytes, Authority]) -> None:
    value, authority = message
    _same_as_validated(
        parse_referral(value, authority),
        parse_referral_with_models(value, authority),
        referral_event,
    )


def test_the_generated_messages_are_mostly_accepted() -> None:
    # Otherwise the properties above would hold without the direct build ever running.
    accepted = 0

    @settings(max_examples=200, database=None)
    @given(notifications(), referrals())
    def count(notification: bytes, referral: tuple[bytes, Authority]) -> None:
        nonlocal accepted
        accepted += isinstance(parse_status_change(notification, Authority.LAHTI), ClientStatus)
        accepted += isinstance(parse_referral(*referral), ServiceReferral)

    count()
    assert accepted > 100
