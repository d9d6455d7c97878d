"""Every example under ``contracts/*/examples`` against the published JSON Schema files.

The per-partner contract tests prove each translation turns its input into exactly its
committed result. This module proves the canonical side of those goldens is what partners
were promised: each canonical event validates against the committed
``schemas/json/<type>.schema.json`` (with the ``jsonschema`` library, formats asserted), reads
back through its model unchanged, and each partner's view of it validates against the
projection of that schema for the partner's contract. Every JSON example is classified once,
so a new example folder cannot slip past.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Final

import orjson
import pytest
from jsonschema import Draft202012Validator

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.distribution.contracts import Receipt, load_contract_book, project
from hub.distribution.projection_schema import event_type_of, projected_schema
from hub.distribution.rendering import CLOUDEVENTS_JSON
from schemas.catalogue import EVENT_TYPES, SCHEMA_DIR
from schemas.codes import Partner

CONTRACTS: Final = Path(__file__).parents[2] / "contracts"
BOOK: Final = load_contract_book(renderers_for(CONNECTORS))

#: Canonical events exactly as the hub writes them to ``hub.<family>.v<major>``.
CANONICAL: Final = {
    "kela/examples/benefit-day/*.json": "fi.paijathame.hub.benefit-day.v1",
    "kela/examples/benefit-day/v2/*.json": "fi.paijathame.hub.benefit-day.v2",
    "authorities/examples/client-status/*.expected.json": "fi.paijathame.hub.client-status.v1",
    "authorities/examples/service-referral/*.expected.json": (
        "fi.paijathame.hub.service-referral.v1"
    ),
    "share/examples/benefit-threshold/*.json": "fi.paijathame.hub.benefit-threshold.v1",
}
#: Renderer inputs: a canonical event as projected for a partner's contract (the partners
#: whose receipt of that family it fits).
PROJECTED: Final = {
    "kela/examples/client-status/*.json": ((Partner.KELA,), "client-status"),
    "authorities/examples/referral-status/*.json": ((Partner.LAHTI, Partner.PH), "referral-status"),
    "sote/examples/service-request/*.json": ((Partner.SOTE,), "service-referral"),
}
#: Partner-native messages, in and out: the per-partner contract tests own them.
NATIVE: Final = (
    "authorities/examples/client-status/*.json",
    "authorities/examples/client-status/rejected/*.json",
    "authorities/examples/service-referral/*.json",
    "authorities/examples/service-referral/rejected/*.json",
    "authorities/examples/referral-status/*.expected.json",
    "authorities/examples/referral-answer/*.json",
    "authorities/examples/referral-answer/*.expected.json",
    "authorities/examples/referral-answer/rejected/*.json",
    "sote/examples/service-request/*.expected.json",
    "sote/examples/task/*.json",
    "sote/examples/task/*.expected.json",
    "sote/examples/task/rejected/*.json",
)
#: Each connector's goldens, per direction: partner bytes in, partner bytes out.
GOLDENS: Final = {
    "kela": (("kela/examples/benefit-day",), ("kela/examples/client-status",)),
    "authorities": (
        (
            "authorities/examples/client-status",
            "authorities/examples/service-referral",
            "authorities/examples/referral-answer",
        ),
        ("authorities/examples/referral-status",),
    ),
    "sote": (("sote/examples/task",), ("sote/examples/service-request",)),
}


def _match(pattern: str) -> list[Path]:
    """``*.json`` means inputs, ``*.expected.json`` the committed results."""
    wants_expected = pattern.endswith(".expected.json")
    return sorted(
        p for p in CONTRACTS.glob(pattern) if p.name.endswith(".expected.json") == wants_expected
    )


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _committed(event_type: str) -> dict[str, Any]:
    loaded: dict[str, Any] = _load(SCHEMA_DIR / f"{event_type}.schema.json")
    return loaded


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return sorted(f"{e.json_path}: {e.message}" for e in _validator(schema).iter_errors(instance))


def _receipts(family: str) -> list[tuple[Partner, Receipt]]:
    return [
        (partner, receipt)
        for partner, contract in BOOK.contracts.items()
        for receipt in contract.receives
        if receipt.family == family
    ]


def _name(path: Path) -> str:
    return str(path.relative_to(CONTRACTS))


def _id(value: object) -> str:
    if isinstance(value, Path):
        return _name(value)
    return "+".join(map(str, value)) if isinstance(value, tuple) else str(value)


CANONICAL_EXAMPLES: Final = [
    (path, event_type) for pattern, event_type in CANONICAL.items() for path in _match(pattern)
]
PROJECTED_EXAMPLES: Final = [
    (path, partners, family)
    for pattern, (partners, family) in PROJECTED.items()
    for path in _match(pattern)
]


def test_every_json_example_is_classified_exactly_once() -> None:
    patterns = [*CANONICAL, *PROJECTED, *NATIVE]
    seen = Counter(path for pattern in patterns for path in _match(pattern))
    assert set(seen) == set(CONTRACTS.glob("*/examples/**/*.json"))
    assert [_name(path) for path, count in seen.items() if count > 1] == []


def test_every_connector_has_goldens_in_both_directions() -> None:
    assert set(GOLDENS) == {connector.name for connector in CONNECTORS}
    for inbound, outbound in GOLDENS.values():
        for folder in (*inbound, *outbound):
            assert _match(f"{folder}/*.json"), folder
            assert len(_match(f"{folder}/*.json")) >= 3, folder


def test_formats_are_asserted_not_only_annotated() -> None:
    checkers = Draft202012Validator.FORMAT_CHECKER.checkers
    assert {"date", "date-time"} <= set(checkers)


def test_there_are_canonical_examples_of_every_type_but_referral_status() -> None:
    # Referral-status events are made by the hub from Päijät-Sote's Tasks: their goldens are
    # the projected ones under authorities/examples/referral-status.
    assert {t for _, t in CANONICAL_EXAMPLES} == set(EVENT_TYPES) - {
        "fi.paijathame.hub.referral-status.v1"
    }
    assert {f for _, _, f in PROJECTED_EXAMPLES} >= {"referral-status"}


@pytest.mark.parametrize(("path", "event_type"), CANONICAL_EXAMPLES, ids=_id)
def test_canonical_example_is_valid_under_its_committed_schema(path: Path, event_type: str) -> None:
    event = _load(path)
    assert event["type"] == event_type
    assert _errors(_committed(event_type), event) == []


@pytest.mark.parametrize(("path", "event_type"), CANONICAL_EXAMPLES, ids=_id)
def test_canonical_example_reads_back_through_its_model_unchanged(
    path: Path, event_type: str
) -> None:
    event = EVENT_TYPES[event_type].model_validate_json(path.read_bytes())
    assert event.model_dump(mode="json") == _load(path)


@pytest.mark.parametrize(("path", "event_type"), CANONICAL_EXAMPLES, ids=_id)
def test_every_partner_view_of_a_canonical_example_is_valid_under_its_projection(
    path: Path, event_type: str
) -> None:
    event = _load(path)
    major = int(event["type"].rpartition(".v")[2])
    for partner, named in _receipts(event["type"].split(".")[-2]):
        # As the partner would receive it once its contract names the example's version.
        receipt = named.model_copy(update={"version": major})
        projected = project(event, receipt)
        assert _errors(projected_schema(receipt), projected) == [], (partner, receipt.topic)
        if receipt.format == CLOUDEVENTS_JSON.format:
            # The built-in renderer's round trip: the bytes read back as the projection.
            assert orjson.loads(CLOUDEVENTS_JSON.render(projected)) == projected


@pytest.mark.parametrize(("path", "partners", "family"), PROJECTED_EXAMPLES, ids=_id)
def test_projected_example_is_what_the_contract_lets_through(
    path: Path, partners: tuple[Partner, ...], family: str
) -> None:
    example = _load(path)
    assert example.get("type", event_type_of(family)) == event_type_of(family)
    for partner in partners:
        (receipt,) = (r for p, r in _receipts(family) if p is partner and r.notice is None)
        schema = projected_schema(receipt)
        # A renderer example holds what the renderer reads; envelope attributes may be absent.
        schema["required"] = ["data"]
        assert _errors(schema, example) == [], partner


def _broken(change: Any) -> dict[str, Any]:
    event: dict[str, Any] = _load(CANONICAL_EXAMPLES[0][0])
    change(event)
    return event


BROKEN: Final = {
    "unknown data property": lambda e: e["data"].update(extra="x"),
    "unknown envelope attribute": lambda e: e.update(partner="kela"),
    "impossible date": lambda e: e["data"].update(payment_date="2025-02-31"),
    "time without offset": lambda e: e.update(time="2025-03-04 00:00"),
    "missing required": lambda e: e["data"].pop("record_id"),
    "identity code as subject": lambda e: e.update(subject="280203A9171"),
    "other type": lambda e: e.update(type="fi.paijathame.hub.client-status.v1"),
}


@pytest.mark.parametrize("change", BROKEN.values(), ids=list(BROKEN))
def test_the_committed_schema_rejects_a_broken_event(change: Any) -> None:
    assert CANONICAL_EXAMPLES[0][1] == "fi.paijathame.hub.benefit-day.v1"
    event = _broken(change)
    assert _errors(_committed("fi.paijathame.hub.benefit-day.v1"), event) != []


def test_a_projection_rejects_a_field_the_contract_does_not_list() -> None:
    (receipt,) = (r for p, r in _receipts("client-status") if p is Partner.KELA)
    event = _load(
        CONTRACTS / "authorities/examples/client-status/lahti-unemployed-in-training.expected.json"
    )
    projected = project(event, receipt)
    projected["data"]["note"] = event["data"]["note"]
    assert any("note" in error for error in _errors(projected_schema(receipt), projected))
