"""The fuzz tests' checks fail when they should: a broken check would pass every input.

A route that leaks an identity code into a detail, gives an undocumented reason, publishes a
code in a header or raises must fail ``translated``; the scanner must find a planted code
however it is surrounded, and a valid code nobody planted. The connector contract's own
properties fail on a route that raises, and its example test on a route that rejects or drops
a valid example.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

import pytest

from connectors.sote.inbound import TaskUpdate, status_event
from hub.routing.pipeline import Accepted, Outgoing, Route
from schemas.codes import Authority, ReferralState
from schemas.envelope import ReferralStatusEvent
from schemas.person_ref import person_ref_for
from schemas.rejection import Rejection
from tests.connector_contract import ConnectorContract
from tests.fuzz import outcomes
from tests.fuzz.hostile_values import FuzzInput, broken_check_character
from tests.fuzz.properties import Translated, translated
from tests.identity_code_scan import identity_codes_in
from tests.strategies import build_identity_code
from tests.support import SECRET

pytestmark = pytest.mark.fuzz

PLANTED: Final = build_identity_code(dt.date(1985, 6, 15), 951)
UNPLANTED: Final = build_identity_code(dt.date(2004, 2, 29), 987)
REASONS: Final = frozenset({"bad-date"})
CANONICAL: Final = {"hub.referral-status.v1": ReferralStatusEvent}
PARSER: Final = "self-check"


@pytest.fixture(autouse=True)
def _out_of_the_tally() -> Iterator[None]:
    # The fuzz target prints the tally: these made-up failures are no parser's.
    yield
    outcomes.TALLY.pop(PARSER, None)
    outcomes.TESTS_BY_PARSER.pop(PARSER, None)


def _route(outcome: Translated | Exception) -> Route:
    def translate(_value: bytes) -> Translated:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return Route("self-check", ("in.self-check",), translate)


def _check(outcome: Translated | Exception) -> None:
    translated(PARSER, _route(outcome), FuzzInput(b"x", frozenset({PLANTED})), REASONS, CANONICAL)


@pytest.mark.parametrize(
    "text",
    [f"x{PLANTED}y", f"line {PLANTED}", PLANTED, f'"{PLANTED}"', f"id=a{PLANTED}0"],
)
def test_the_scanner_finds_a_planted_code_whatever_surrounds_it(text: str) -> None:
    assert PLANTED in identity_codes_in(text, {PLANTED})


def test_the_scanner_finds_a_valid_code_nobody_planted() -> None:
    assert identity_codes_in(f"log line {UNPLANTED} end", valid_check_only=True) == [UNPLANTED]


def test_the_scanner_can_ignore_shapes_with_a_wrong_check_character() -> None:
    wrong = broken_check_character(UNPLANTED)
    assert identity_codes_in(wrong) == [wrong]
    assert identity_codes_in(wrong, valid_check_only=True) == []


def test_a_clean_rejection_passes() -> None:
    _check(Rejection("bad-date", "jakso_alku '31.02.2025' is not a date"))


@pytest.mark.parametrize(
    "rejection",
    [
        Rejection("bad-date", f"hetu {PLANTED} is wrong"),
        Rejection("bad-date", f"id x{PLANTED}"),
        Rejection("bad-date", f"id {UNPLANTED}"),
        Rejection("bad-date", f"id {broken_check_character(UNPLANTED)}"),
        Rejection("not-a-documented-reason", "fine detail"),
        Rejection("invalid-row", "model drift"),
    ],
)
def test_a_leaking_or_undocumented_rejection_fails(rejection: Rejection) -> None:
    with pytest.raises(AssertionError):
        _check(rejection)


def _status_message(headers: dict[str, str], key: bytes | None = None) -> Outgoing:
    update = TaskUpdate(
        "L-1", ReferralState.ACCEPTED, None, dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
    )
    event = status_event(update, person_ref_for(PLANTED, SECRET), Authority.LAHTI)
    value = event.model_dump_json().encode()
    return Outgoing("hub.referral-status.v1", value, key or event.subject.encode(), headers)


def test_a_clean_accepted_message_passes() -> None:
    _check(Accepted([_status_message({"content-type": "application/cloudevents+json"})]))


@pytest.mark.parametrize(
    "message",
    [_status_message({"x-person": PLANTED}), _status_message({}, key=PLANTED.encode())],
)
def test_a_code_in_a_key_or_header_of_an_accepted_message_fails(message: Outgoing) -> None:
    with pytest.raises(AssertionError):
        _check(Accepted([message]))


def test_an_accepted_message_that_is_no_canonical_event_fails() -> None:
    with pytest.raises(ValueError, match="validation error"):
        _check(Accepted([Outgoing("hub.referral-status.v1", b"{}", b"p-x")]))


def test_an_exception_fails_and_is_counted_as_unhandled() -> None:
    with pytest.raises(KeyError):
        _check(KeyError("boom"))
    assert outcomes.TALLY[PARSER] == {"unhandled KeyError": 1}


class _SelfCheck(ConnectorContract):
    """A contract whose one route answers every input with ``outcome``."""

    parser = PARSER
    reasons = REASONS
    canonical = CANONICAL
    outcome: Translated | Exception = Rejection("bad-date", "fine")

    def build_routes(self, data_dir: Path) -> Sequence[Route]:
        return [_route(self.outcome)]

    def seeds(self) -> Sequence[bytes]:
        return [b"{}"]

    def accepted_examples(self) -> Sequence[tuple[str, bytes]]:
        return [("self-check", b"{}")]


@pytest.mark.parametrize(
    "outcome",
    [
        Rejection("bad-date", "a valid example rejected"),
        Accepted([]),
        Accepted([Outgoing("hub.referral-status.v1", b"{}", b"p-x")]),
    ],
    ids=["rejected", "nothing published", "no canonical event"],
)
def test_the_contract_fails_a_route_that_does_not_publish_a_valid_example(
    tmp_path: Path, outcome: Translated
) -> None:
    contract = _SelfCheck()
    contract.outcome = outcome
    with pytest.raises((AssertionError, ValueError)):
        contract.test_valid_examples_are_accepted(tmp_path)


def test_the_contracts_properties_fail_a_route_that_raises() -> None:
    contract = _SelfCheck()
    contract.outcome = KeyError("boom")
    routes = {"self-check": _route(contract.outcome)}
    with pytest.raises(KeyError):
        contract.test_arbitrary_bytes_get_a_documented_answer(routes=routes)
    with pytest.raises(KeyError):
        contract.test_mutated_examples_get_a_documented_answer(routes=routes)


def test_the_contract_passes_a_route_that_answers_cleanly() -> None:
    contract = _SelfCheck()
    routes = {"self-check": _route(contract.outcome)}
    contract.test_arbitrary_bytes_get_a_documented_answer(routes=routes)
