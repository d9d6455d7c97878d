"""The one rule of what a dead letter may show (``hub.core.redaction``), and that every connector
follows it rather than a rule of its own."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from connectors.authorities.inbound import parse_status_change
from connectors.kela.inbound import parse_line
from connectors.sote.inbound import parse_task
from hub.core.redaction import MASK, MAX_DETAIL, quotable, shown_detail, shown_value
from hub.routing.deadletter import DLQ_DETAIL, DeadLetter, FileSource, quarantined_form
from hub.routing.quarantine import QuarantineEntry
from schemas.rejection import Rejection
from tests.connectors.authorities.test_inbound import LAHTI, NOTIFICATION
from tests.connectors.kela.test_inbound import line_with

_ROOT = Path(__file__).resolve().parents[4]
CODE = "131052-930V"


@pytest.mark.parametrize(
    ("length", "cut"), [(MAX_DETAIL - 1, False), (MAX_DETAIL, False), (MAX_DETAIL + 1, True)]
)
def test_a_shown_detail_is_cut_at_the_limit(length: int, cut: bool) -> None:
    shown = shown_detail("x" * length)
    assert len(shown) == min(length, MAX_DETAIL)
    assert shown.endswith("…") is cut


def test_a_shown_detail_masks_identity_codes_before_it_is_cut() -> None:
    # Masking first: a code across the cut is not left half there.
    detail = "x" * (MAX_DETAIL - len(MASK)) + CODE
    assert shown_detail(detail) == "x" * (MAX_DETAIL - len(MASK)) + MASK
    assert shown_detail(f"hetu {CODE.lower()} and {CODE}") == f"hetu {MASK} and {MASK}"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("", True),
        ("TMT", True),
        ("x" * 64, True),
        ("x" * 65, False),  # one past the length limit
        ("12345678", True),  # eight digits: fewer than a code has
        ("123456789", False),  # nine: as many as a code has
        ("a-1-2-3-4-5-6-7-8", True),
        ("a-1-2-3-4-5-6-7-8-9", False),
        (CODE, False),
        ("two words", False),  # free text
        ("tab\there", False),
        ("hyväksytty", False),  # not ASCII
        ("~!", True),
    ],
)
def test_what_a_detail_may_quote(text: str, shown: bool) -> None:
    assert quotable(text) is shown
    assert shown_value(text) == (f"'{text}'" if shown else f"<{len(text)} characters, not shown>")


def test_every_dead_letter_header_and_audit_detail_passes_the_rule() -> None:
    detail = f"bad {CODE} " + "y" * 2000
    letter = DeadLetter(b"v", "bad-date", detail, FileSource("f", 1), "kela")
    assert letter.headers()[DLQ_DETAIL] == shown_detail(detail) == letter.shown_detail
    entry = QuarantineEntry(sha256="ab" * 32, size=5_000_000)
    form = quarantined_form({DLQ_DETAIL: f"x {CODE}"}, entry)
    assert form.headers[DLQ_DETAIL] == shown_detail(form.headers[DLQ_DETAIL])
    assert CODE not in form.headers[DLQ_DETAIL]


# --- the connectors follow the rule ----------------------------------------------------------


def _kela(value: str) -> Rejection:
    result = parse_line(line_with(etuus=value), 2)
    assert isinstance(result, Rejection)
    return result


def _authorities(value: str) -> Rejection:
    result = parse_status_change(orjson.dumps(NOTIFICATION | {"kotikunta": value}), LAHTI)
    assert isinstance(result, Rejection)
    return result


def _sote(value: str) -> Rejection:
    result = parse_task(orjson.dumps({"resourceType": value}))
    assert isinstance(result, Rejection)
    return result


# Values the connectors' former rules told apart (Kela quoted text with spaces, up to 40
# characters; the authorities quoted up to 32), and what every rule withheld.
@pytest.mark.parametrize("parse", [_kela, _authorities, _sote], ids=["kela", "authorities", "sote"])
@pytest.mark.parametrize("value", ["AB CD", "K" * 33, "K" * 41, "K" * 64, "K" * 65, CODE, "abc"])
def test_a_connector_quotes_a_value_as_the_rule_says(
    parse: Callable[[str], Rejection], value: str
) -> None:
    detail = parse(value).detail
    assert shown_value(value) in detail
    if not quotable(value):
        assert value not in detail


#: What a quoting rule of a connector's own would write, or be called.
_OWN_RULE_TEXT = "not shown"
_OWN_RULE_NAMES = frozenset({"_shown", "_quotable", "_looks_like_code", "_location"})


def test_no_connector_has_a_quoting_rule_of_its_own() -> None:
    found = []
    for path in sorted((_ROOT / "connectors").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and _OWN_RULE_TEXT in node.value
            ):
                found.append(f"{path.relative_to(_ROOT)}:{node.lineno}")
            if isinstance(node, ast.FunctionDef) and node.name in _OWN_RULE_NAMES:
                found.append(f"{path.relative_to(_ROOT)}:{node.lineno} def {node.name}")
    assert found == [], "quote partner values with hub.core.redaction.shown_value"
