"""The labour authorities' contract examples: each message becomes exactly its committed result.

Under ``contracts/authorities/examples/``:

* ``client-status/NAME.json`` is a change notification (the Kafka message value) and
  ``NAME.expected.json`` the canonical event it must become (``model_dump(mode="json")``, with
  the contract secret); ``service-referral/`` is the same for referrals;
* ``<family>/rejected/NAME.json`` must be rejected with the reason in ``NAME.reason``;
* ``referral-status/NAME.json`` is a projected canonical referral-status event and
  ``NAME.expected.json`` the exact bytes the authority receives (plus a final newline).

The authority is the topic's, so an inbound example's name starts with it: ``lahti-…`` came
on ``in.lahti.…``, ``ph-…`` on ``in.ph.…``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pytest

from connectors.authorities.inbound import (
    INVALID_MESSAGE,
    REFERRAL_REASONS,
    STATUS_CHANGE_REASONS,
    parse_referral,
    parse_status_change,
    referral_event,
    status_event,
)
from connectors.authorities.outbound import render_referral_status
from schemas.client_status import ClientStatus
from schemas.codes import Authority
from schemas.identity_code import IDENTITY_CODE_SHAPE, is_temporary
from schemas.rejection import Rejection
from schemas.service_referral import ServiceReferral

EXAMPLES: Final = Path(__file__).parents[2] / "contracts" / "authorities" / "examples"
SECRET: Final = b"contract-example-secret-0123456789abcdef"

STATUS: Final = EXAMPLES / "client-status"
REFERRAL: Final = EXAMPLES / "service-referral"
REFERRAL_STATUS: Final = EXAMPLES / "referral-status"


def _inputs(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.json") if not p.name.endswith(".expected.json"))


def _expected(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".json") + ".expected.json")


def _authority(path: Path) -> Authority:
    return Authority(path.name.split("-", 1)[0])


def _reason(path: Path) -> str:
    return path.with_suffix(".reason").read_text(encoding="utf-8").strip()


ACCEPTED_STATUS: Final = _inputs(STATUS)
ACCEPTED_REFERRALS: Final = _inputs(REFERRAL)
REJECTED_STATUS: Final = sorted((STATUS / "rejected").glob("*.json"))
REJECTED_REFERRALS: Final = sorted((REFERRAL / "rejected").glob("*.json"))
RENDERED: Final = _inputs(REFERRAL_STATUS)

_Parser = Callable[[bytes, Authority], object]


def _name(path: Path) -> str:
    return path.name.removesuffix(".json")


def test_examples_exist() -> None:
    assert len(ACCEPTED_STATUS) >= 4
    assert len(ACCEPTED_REFERRALS) >= 5
    assert len(REJECTED_STATUS) >= len(STATUS_CHANGE_REASONS) - 1
    assert len(REJECTED_REFERRALS) >= len(REFERRAL_REASONS) - 1
    assert len(RENDERED) >= 6


@pytest.mark.parametrize("example", ACCEPTED_STATUS, ids=_name)
def test_accepted_notification_becomes_its_committed_event(example: Path) -> None:
    status = parse_status_change(example.read_bytes(), _authority(example))
    assert isinstance(status, ClientStatus), status
    expected = json.loads(_expected(example).read_text(encoding="utf-8"))
    assert status_event(status, SECRET).model_dump(mode="json") == expected


@pytest.mark.parametrize("example", ACCEPTED_REFERRALS, ids=_name)
def test_accepted_referral_becomes_its_committed_event(example: Path) -> None:
    referral = parse_referral(example.read_bytes(), _authority(example))
    assert isinstance(referral, ServiceReferral), referral
    expected = json.loads(_expected(example).read_text(encoding="utf-8"))
    assert referral_event(referral, SECRET).model_dump(mode="json") == expected


def _check_rejected(example: Path, parse: _Parser) -> None:
    result = parse(example.read_bytes(), _authority(example))
    assert isinstance(result, Rejection), result
    assert result.reason == _reason(example)
    assert not IDENTITY_CODE_SHAPE.search(result.detail)


@pytest.mark.parametrize("example", REJECTED_STATUS, ids=_name)
def test_rejected_notification_gives_exactly_its_reason(example: Path) -> None:
    _check_rejected(example, parse_status_change)


@pytest.mark.parametrize("example", REJECTED_REFERRALS, ids=_name)
def test_rejected_referral_gives_exactly_its_reason(example: Path) -> None:
    _check_rejected(example, parse_referral)


def test_every_status_reason_has_a_rejected_example() -> None:
    shown = {_reason(path) for path in REJECTED_STATUS}
    assert shown == STATUS_CHANGE_REASONS - {INVALID_MESSAGE}


def test_every_referral_reason_has_a_rejected_example() -> None:
    shown = {_reason(path) for path in REJECTED_REFERRALS}
    assert shown == REFERRAL_REASONS - {INVALID_MESSAGE}


@pytest.mark.parametrize("example", RENDERED, ids=_name)
def test_projected_referral_status_renders_to_its_golden_bytes(example: Path) -> None:
    projected = json.loads(example.read_text(encoding="utf-8"))
    assert render_referral_status(projected) + b"\n" == _expected(example).read_bytes()


def test_every_example_has_its_expectation() -> None:
    for path in [*ACCEPTED_STATUS, *ACCEPTED_REFERRALS, *RENDERED]:
        assert _expected(path).is_file(), path.name
    for path in [*REJECTED_STATUS, *REJECTED_REFERRALS]:
        assert path.with_suffix(".reason").is_file(), path.name
    for directory in (STATUS, REFERRAL, REFERRAL_STATUS):
        expected = {
            p.name.removesuffix(".expected.json") for p in directory.glob("*.expected.json")
        }
        assert expected == {_name(p) for p in _inputs(directory)}


def test_examples_use_only_temporary_identity_codes() -> None:
    for path in EXAMPLES.rglob("*.json"):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for code in IDENTITY_CODE_SHAPE.findall(text):
            assert is_temporary(code), path.name
