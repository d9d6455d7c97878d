"""One way a ``ValidationError`` becomes a ``Rejection`` (``hub.core.rejections``), used by every
route and connector that turns a refused model into a dead letter."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Literal

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

import hub.core.rejections as rejections_module
from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.core.rejections import (
    INVALID_CANONICAL_EVENT,
    KEY_NOT_SHOWN,
    error_location,
    rejection_from,
    strings_in,
)
from hub.distribution.contracts import load_contract_book
from hub.distribution.routes import route_event
from schemas.rejection import Rejection
from tests.support import client_status_event

_ROOT = Path(__file__).resolve().parents[4]
CODE = "131052-930V"


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["a", "b"]
    count: int
    items: list[_Inner] = []


def _error(value: object) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        _Model.model_validate(value)
    return raised.value


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        ((), "(root)"),
        (("data",), "data"),
        (("data", "person_id"), "data.person_id"),
        (("items", 0, "name"), "items[0].name"),
        ((3,), "[3]"),
        (("fi.paijathame.hub.benefit-day.v1", "data"), "fi.paijathame.hub.benefit-day.v1.data"),
        ((CODE,), KEY_NOT_SHOWN),
        (("data", CODE.lower()), f"data.{KEY_NOT_SHOWN}"),
        (("data", "a123456789"), f"data.{KEY_NOT_SHOWN}"),  # nine digits
        (("data", "a12345678"), "data.a12345678"),  # eight
        (("two words",), KEY_NOT_SHOWN),
        (("x" * 64,), "x" * 64),
        (("x" * 65,), KEY_NOT_SHOWN),
        (("9lives",), KEY_NOT_SHOWN),  # not an element name
        (("_status",), "_status"),
    ],
)
def test_a_location_shows_element_names_and_hides_other_keys(
    loc: tuple[int | str, ...], text: str
) -> None:
    assert error_location(loc) == text


def test_the_reason_is_the_callers_and_the_detail_the_first_error() -> None:
    error = _error({"kind": "a", "count": "many"})
    assert rejection_from(error, "bad-thing") == Rejection(
        "bad-thing", "count: Input should be a valid integer, unable to parse string as an integer"
    )


@pytest.mark.parametrize(("errors", "more"), [(1, ""), (2, " (and 1 more)"), (3, " (and 2 more)")])
def test_further_errors_are_counted(errors: int, more: str) -> None:
    value: dict[str, object] = {"kind": "a", "count": "x"}
    if errors >= 2:
        value["kind"] = "c"
    if errors >= 3:
        value["extra"] = 1
    detail = rejection_from(_error(value), "r").detail
    assert detail.endswith(more)
    assert (" more)" in detail) is (errors > 1)


def test_a_key_shaped_like_an_identity_code_is_not_shown() -> None:
    error = _error({"kind": "a", "count": 1, CODE: "x"})
    assert rejection_from(error, "r") == Rejection(
        "r", f"{KEY_NOT_SHOWN}: Extra inputs are not permitted"
    )


def test_an_error_without_errors_is_still_a_rejection() -> None:
    empty = ValidationError.from_exception_data("Empty", [])
    assert rejection_from(empty, "r", root="(resource)") == Rejection(
        "r", "(resource): refused by its model"
    )


def test_a_whole_input_refused_is_named_by_root() -> None:
    error = _error([1])
    assert rejection_from(error, "r").detail.startswith("(root): ")
    assert rejection_from(error, "r", root="(resource)").detail.startswith("(resource): ")


def _refused_with(message: str) -> ValidationError:
    """A ValidationError whose message is ``message`` (as a validator's ValueError makes)."""
    return ValidationError.from_exception_data(
        "Quoting",
        [{"type": "value_error", "loc": ("value",), "input": 1, "ctx": {"error": message}}],
    )


@pytest.mark.parametrize(
    ("message", "withheld"),
    [
        (f"bad {CODE}", True),
        (f"bad {CODE.lower()}x", True),
        ("the input secre was wrong", True),  # quotes a string of the input (five characters)
        ("the input secr was wrong", False),  # four characters: too short to look for
        ("just wrong", False),
        ("line\nbreak", False),
    ],
)
def test_a_message_that_could_quote_the_input_is_withheld(message: str, withheld: bool) -> None:
    error = _refused_with(message)
    detail = rejection_from(error, "r", inputs={"a": ["secre", "secr"]}).detail
    assert ("withheld" in detail) is withheld
    assert CODE not in detail
    assert "\n" not in detail
    if not withheld:
        assert detail == f"value: Value error, {message}".replace("\n", "\\n")


def test_a_message_known_to_quote_the_input_is_withheld_by_its_type() -> None:
    error = ValidationError.from_exception_data(
        "Quoting",
        [{"type": "union_tag_invalid", "loc": ("x",), "input": {}, "ctx": {
            "discriminator": "'t'", "tag": "harmless", "expected_tags": "'a'"}}],
    )  # fmt: skip
    assert rejection_from(error, "r") == Rejection(
        "r", "x: union_tag_invalid (the message is withheld: it could quote the input)"
    )


def test_strings_in_finds_every_string_value_not_keys() -> None:
    assert strings_in({"k": ["a", {"k2": "b"}, 1, None], "n": "c"}) == {"a", "b", "c"}
    assert strings_in(None) == set()
    assert strings_in("x") == {"x"}


def test_the_distribution_rejects_with_the_helper() -> None:
    event = orjson.loads(client_status_event().model_dump_json())
    event["data"][CODE] = 1
    renderers = renderers_for(CONNECTORS)
    book = load_contract_book(renderers)
    outcome = route_event(book, renderers, "client-status", orjson.dumps(event))
    assert isinstance(outcome, Rejection)
    assert outcome.reason == INVALID_CANONICAL_EVENT
    assert outcome.detail == f"data.{KEY_NOT_SHOWN}: Extra inputs are not permitted"


def _modules_turning_validation_errors_into_rejections() -> list[str]:
    """Modules that both read a ValidationError's errors and build a Rejection: each one a
    second rule beside ``hub.core.rejections``."""
    found = []
    for package in ("hub", "connectors"):
        for path in sorted((_ROOT / package).rglob("*.py")):
            if path == Path(rejections_module.__file__).resolve():
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            reads_errors = any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "errors"
                for node in ast.walk(tree)
            )
            builds_rejections = any(
                isinstance(node, ast.Name) and node.id == "Rejection" for node in ast.walk(tree)
            )
            if reads_errors and builds_rejections:
                found.append(str(path.relative_to(_ROOT)))
    return found


def test_no_module_has_a_validation_error_rule_of_its_own() -> None:
    assert _modules_turning_validation_errors_into_rejections() == []
