"""The property every fuzz test checks: whatever the bytes, a route answers cleanly.

A route's ``translate`` (what ``hub up`` runs for a consumed message) must return, never
raise, and its answer must be one of:

* a ``Rejection`` whose ``reason`` is one of the route's documented codes (the parser's
  ``REASONS`` and the few the route adds, such as a conflicting duplicate) and whose
  ``detail`` carries no identity code: neither one planted in the input nor anything shaped
  like one. The parsers' "failed the model's checks" codes (``invalid-row``,
  ``invalid-message``) are documented as "not expected to happen": they mean the parser's own
  checks and the native model disagree, so the fuzz tests count them as failures too;
* an ``Accepted`` whose messages go to the route's canonical topic, keyed by the event's
  pseudonymous subject, with headers free of identity codes, and whose values are valid
  canonical events (what is published can be read back by the hub's own models).

The answer is abandoned afterwards (staged ledger or register writes rolled back), so every
input meets the same state and a failing input reproduces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from hub.routing.pipeline import Accepted, Route
from schemas.envelope import CloudEvent
from schemas.rejection import Rejection
from tests.fuzz.hostile_values import FuzzInput
from tests.fuzz.outcomes import answer
from tests.identity_code_scan import identity_codes_in

__all__ = [
    "MODEL_DRIFT",
    "Translated",
    "check_accepted",
    "known_reasons",
    "label_of",
    "translated",
]

#: Reasons a parser documents as "not expected to happen".
MODEL_DRIFT: Final = frozenset({"invalid-row", "invalid-message"})

Translated = Accepted | Rejection


def known_reasons(parser_reasons: Iterable[str], *route_reasons: str) -> frozenset[str]:
    """The reasons a route may give: its parser's and its own, model drift excluded."""
    return frozenset({*parser_reasons, *route_reasons}) - MODEL_DRIFT


def label_of(outcome: object) -> str:
    """How the tally names an answer."""
    if isinstance(outcome, Rejection):
        return f"rejected {outcome.reason}"
    if isinstance(outcome, Accepted):
        return "accepted" if outcome.messages else "accepted, nothing published"
    return f"wrong type {type(outcome).__name__}"


def _check_rejection(
    rejection: Rejection, reasons: frozenset[str], planted: frozenset[str]
) -> None:
    assert rejection.reason in reasons, rejection
    leaked = identity_codes_in(rejection.detail, planted)
    assert not leaked, f"{rejection.reason}: detail carries {leaked}: {rejection.detail!r}"


def check_accepted(
    accepted: Accepted, canonical: Mapping[str, type[CloudEvent[Any]]], planted: frozenset[str]
) -> None:
    """Each message goes to a canonical topic, holds a valid event of its model, is keyed by
    the event's subject, and carries no identity code in its key or headers."""
    for message in accepted.messages:
        assert message.topic in canonical, message.topic
        event = canonical[message.topic].model_validate_json(message.value)
        assert message.key == event.subject.encode()
        outside_data = " ".join([message.key.decode(), *message.headers, *message.headers.values()])
        assert not identity_codes_in(outside_data, planted), outside_data


def translated(
    parser: str,
    route: Route,
    fuzz: FuzzInput,
    reasons: frozenset[str],
    canonical: Mapping[str, type[CloudEvent[Any]]],
    then: Callable[[Translated], None] = lambda _outcome: None,
    check: Callable[[Accepted, frozenset[str]], None] | None = None,
) -> Translated:
    """Translate ``fuzz.raw`` on ``route``, check the answer (module docstring), run ``then``
    on it, and abandon it. ``canonical`` maps each topic the route may publish to its event
    model; a route that publishes something else (partner messages) brings its own ``check``
    of what it publishes, called with the planted codes."""
    outcome = answer(parser, lambda: route.translate(fuzz.raw), label_of)
    assert isinstance(outcome, Accepted | Rejection), outcome
    if isinstance(outcome, Rejection):
        _check_rejection(outcome, reasons, fuzz.planted)
        return outcome
    try:
        if check is None:
            check_accepted(outcome, canonical, fuzz.planted)
        else:
            check(outcome, fuzz.planted)
        then(outcome)
    finally:
        outcome.abandon()
    return outcome
