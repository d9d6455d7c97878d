"""Partner JSON read once: counting the keys a document writes against the members its
objects hold gives the verdict reading it a second time with the standard parser gives, for
documents with and without repeated keys, escapes, spacing and deep nesting."""

from __future__ import annotations

from typing import Any, Final

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors._refusal import Refusal
from connectors._strict_json import json_object, json_object_read_twice
from hub.core.redaction import shown_value
from tests.fuzz.corpus import authority_documents, authority_seeds, task_documents, task_seeds
from tests.fuzz.json_documents import JsonObject, RawToken, broken_documents, write_json

#: Keys and strings that are the same once decoded, or hold what delimits JSON.
_TRICKY: Final = ["a", "\\u0061", '\\"', "\\\\", ":", '\\":', '\\\\\\"', "\\u003a", " a", "a:"]


def _key(draw: st.DrawFn) -> str:
    # Written as they are: escapes in the text, so "\\u0061" repeats "a".
    return (
        '"'
        + draw(
            st.sampled_from(_TRICKY)
            | st.text('ab:\\" {}[],', max_size=4).map(
                lambda text: text.replace("\\", "\\\\").replace('"', '\\"')
            )
        )
        + '"'
    )


@st.composite
def _documents(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON text of an object: keys may repeat (also as different escapes of one key),
    values nest, spacing varies."""
    space = draw(st.sampled_from(["", " ", "\n  ", "\t"]))
    members = []
    for _ in range(draw(st.integers(0, 5))):
        key = _key(draw)
        kind = draw(st.integers(0, 5))
        if kind == 0 and depth < 3:
            value = draw(_documents(depth + 1))
        elif kind == 1 and depth < 3:
            value = "[" + ",".join(draw(st.lists(_documents(depth + 1), max_size=2))) + "]"
        elif kind == 2:
            value = _key(draw)
        else:
            value = draw(st.sampled_from(["1", "null", "true", "[]", "{}", '"x:y"', "-0.5e3"]))
        members.append(f"{key}{space}:{space}{value}")
    return "{" + space + f",{space}".join(members) + space + "}"


def _deep(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _verdict(read: Any, value: bytes) -> tuple[str, object]:
    try:
        return "read", read(value, duplicate_reason="duplicate-field", shown=shown_value)
    except Refusal as refusal:
        return refusal.reason, refusal.detail


def _same(value: bytes) -> None:
    assert _verdict(json_object, value) == _verdict(json_object_read_twice, value)


@settings(max_examples=500)
@given(_documents())
def test_a_document_with_or_without_repeated_keys_reads_as_when_read_twice(text: str) -> None:
    _same(text.encode())


@settings(max_examples=300)
@given(
    broken_documents(authority_documents("client-status"))
    | broken_documents(authority_documents("service-referral"))
    | broken_documents(task_documents())
)
def test_a_broken_partner_document_reads_as_when_read_twice(broken: Any) -> None:
    _same(broken.raw)


@given(st.integers(1, 1100))
def test_nesting_of_any_depth_reads_as_when_read_twice(depth: int) -> None:
    _same(_deep(depth).encode())


def test_nesting_near_either_parser_s_limit_reads_as_when_read_twice() -> None:
    # About 100: where the count hands over; about 1,000: where the standard parser gives up.
    for depth in (*range(95, 106), *range(960, 1030)):
        _same(_deep(depth).encode())
        _same(("[" * depth + "]" * depth).join(['{"a":', "}"]).encode())


def test_repeated_keys_are_found_however_written() -> None:
    for text in ('{"a": 1, "\\u0061": 2}', '{"x": {"a": 1, "a" : 2}}', '{"a": [{"b":1,"b":1}]}'):
        assert _verdict(json_object, text.encode())[0] == "duplicate-field"


def test_seeds_read_as_when_read_twice() -> None:
    for seed in (
        *authority_seeds("client-status"),
        *authority_seeds("service-referral"),
        *task_seeds(),
    ):
        _same(seed)
    _same(write_json(JsonObject([("a", RawToken("1")), ("a", RawToken("2"))])).encode())
