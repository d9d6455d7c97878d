"""Structure-aware JSON for the fuzz tests: valid partner documents, broken one edit at a time.

A seed document (a valid example message) is copied into ``JsonObject``s, which keep their
keys as written so a key can appear twice, and edited up to five times anywhere in its tree:
a value replaced (by a value of the wrong type, a hostile string, a huge or non-finite
number, deep nesting, or a near-miss of some field's own domain), a key deleted, an unknown
key added, a key repeated, a FHIR-style extension (``_<name>``) added with any value.
Sometimes the whole document is wrapped in an array or replaced by a scalar. ``write_json``
then writes what the standard library would refuse to: repeated keys, ``NaN`` and
``Infinity``, integers of hundreds of digits, lone surrogates.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import strategies as st

from tests.fuzz.hostile_values import (
    FuzzInput,
    broken_check_character,
    encoded,
    hostile_text,
    placed_code,
)
from tests.identity_code_scan import identity_codes_in
from tests.strategies import identity_codes

__all__ = [
    "ABSENT",
    "JsonObject",
    "RawToken",
    "broken_documents",
    "json_values",
    "set_path",
    "with_fields",
    "write_json",
]

#: A value that removes its key (``set_path``, ``with_fields``).
ABSENT: Final = object()


@dataclass
class JsonObject:
    """A JSON object as written: ordered pairs, keys may repeat."""

    pairs: list[tuple[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class RawToken:
    """Text written into the document as it is (``NaN``, ``1e999``, ``[[[[]]]]``)."""

    text: str


_NUMBERS: Final = st.sampled_from(
    ["NaN", "Infinity", "-Infinity", "-0", "1e999", "-1e999", "1E-400", "0.1e1", "00", "+1",
     "1.", ".5", "0x10", str(2**64), str(-(2**63) - 1), "9" * 400]
).map(RawToken)  # fmt: skip


def _deep(depth: int, opener: str) -> RawToken:
    if opener == "[":
        return RawToken("[" * depth + "]" * depth)
    return RawToken('{"a":' * depth + "1" + "}" * depth)


_NESTING: Final = st.builds(_deep, st.integers(1, 3000), st.sampled_from("[{"))


def _values(domain: tuple[str, ...]) -> st.SearchStrategy[Any]:
    ordinary = (
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**64 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | hostile_text(domain)
    )
    # One value in ten is one a strict parser refuses outright (a non-finite or out-of-range
    # number, nesting deeper than it allows): more would stop most inputs before the fields.
    scalars = st.integers(0, 9).flatmap(lambda n: _NUMBERS | _NESTING if n == 9 else ordinary)
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.lists(st.tuples(hostile_text(domain), children), max_size=3).map(JsonObject)
        ),
        max_leaves=6,
    )


def _as_written(value: Any) -> Any:
    if isinstance(value, dict):
        return JsonObject([(key, _as_written(item)) for key, item in value.items()])
    if isinstance(value, list):
        return [_as_written(item) for item in value]
    return value


#: Values for a primitive's extension ("_status"): objects, and what merely looks like one.
_EXTENSIONS: Final = st.sampled_from(
    [{}, None, [], [None], "null", "[]", "{}", "1", "true", '"x"', "[{}]", '{"extension": []}']
).map(_as_written)


def _containers(value: Any) -> list[JsonObject | list[Any]]:
    found: list[JsonObject | list[Any]] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, JsonObject):
            found.append(item)
            pending.extend(child for _, child in item.pairs)
        elif isinstance(item, list):
            found.append(item)
            pending.extend(item)
    return found


def write_json(value: Any, *, ascii_only: bool = True, spaced: bool = False) -> str:
    """``value`` as JSON text, repeated keys and raw tokens included."""
    comma, colon = (", ", ": ") if spaced else (",", ":")
    if isinstance(value, RawToken):
        return value.text
    if isinstance(value, JsonObject):
        members = (
            json.dumps(key, ensure_ascii=ascii_only)
            + colon
            + write_json(item, ascii_only=ascii_only, spaced=spaced)
            for key, item in value.pairs
        )
        return "{" + comma.join(members) + "}"
    if isinstance(value, list):
        items = (write_json(item, ascii_only=ascii_only, spaced=spaced) for item in value)
        return "[" + comma.join(items) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


@st.composite
def _edit(
    draw: st.DrawFn,
    document: Any,
    values: st.SearchStrategy[Any],
    keys: list[str],
    domain: tuple[str, ...],
) -> Any:
    """One edit somewhere in ``document`` (changed in place); the new document root."""
    if draw(st.integers(0, 19)) == 19:
        # Rarely the whole document: another JSON value where an object belongs.
        return [document] if draw(st.booleans()) else draw(values)
    target = draw(st.sampled_from(_containers(document) or [[]]))
    if isinstance(target, list):
        index = draw(st.integers(0, len(target)))
        if index < len(target) and draw(st.booleans()):
            del target[index]
        else:
            target[index : index + 1] = [draw(values)]
        return document
    operation = draw(st.sampled_from(["replace", "replace", "delete", "add", "repeat", "extend"]))
    index = draw(st.integers(0, max(len(target.pairs) - 1, 0)))
    if not target.pairs or operation == "add":
        key = draw(st.sampled_from(keys) | hostile_text(domain))
        target.pairs.append((key, draw(values)))
    elif operation == "extend":
        # FHIR JSON keeps a primitive's extension under "_<name>", and it must be an object:
        # give it anything else, JSON text in a string included.
        extension = _EXTENSIONS | values
        target.pairs.append((f"_{target.pairs[index][0]}", draw(extension)))
    elif operation == "replace":
        target.pairs[index] = (target.pairs[index][0], draw(values))
    elif operation == "delete":
        del target.pairs[index]
    else:
        target.pairs.append((target.pairs[index][0], draw(values)))
    return document


@st.composite
def _broken_documents(
    draw: st.DrawFn,
    documents: Sequence[dict[str, Any]],
    domain: tuple[str, ...],
    id_keys: tuple[str, ...],
) -> FuzzInput:
    seed = draw(st.sampled_from(documents))
    if draw(st.booleans()):
        # A new message id, so that an unbroken document is news and not a repeat.
        fresh = draw(st.from_regex(r"[A-Za-z0-9-]{1,40}", fullmatch=True))
        seed = {key: fresh if key in id_keys else value for key, value in seed.items()}
    document = _as_written(seed)
    code = draw(identity_codes())
    values = _values(domain) | placed_code(code)
    known = {
        key
        for container in _containers(document)
        if isinstance(container, JsonObject)
        for key, _ in container.pairs
    }
    # "_<name>" is where FHIR JSON puts a primitive element's extension; elsewhere it is just
    # an unknown key.
    keys = sorted(known | {f"_{key}" for key in known} | {code, "hetu", "resource_type"})
    for _ in range(draw(st.integers(0, 5))):
        document = draw(_edit(document, values, keys, domain))
    text = write_json(document, ascii_only=draw(st.booleans()), spaced=draw(st.booleans()))
    planted = {code, broken_check_character(code), *identity_codes_in(json.dumps(seed))}
    return FuzzInput(draw(encoded(text)), frozenset(planted))


def broken_documents(
    documents: Sequence[dict[str, Any]], domain: tuple[str, ...] = (), id_keys: tuple[str, ...] = ()
) -> st.SearchStrategy[FuzzInput]:
    """Seed documents with up to five structural edits (see the module docstring).

    ``domain`` lists near-misses of the fields' own values and further element names (used as
    values and as keys); ``id_keys`` names the top-level keys of a message id, given a fresh
    value half of the time.
    """
    return _broken_documents(documents, domain, id_keys)


def json_values(domain: Sequence[str] = ()) -> st.SearchStrategy[Any]:
    """Any JSON value a standard writer produces, small and sometimes nested; scalars include
    the ``domain`` strings (field values of the partner's own format)."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**64 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=30)
    )
    if domain:
        scalars |= st.sampled_from(list(domain))
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=12,
    )


def with_fields(document: Mapping[str, Any], replaced: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with top-level keys replaced; ``ABSENT`` removes one."""
    merged = {**document, **replaced}
    return {key: value for key, value in merged.items() if value is not ABSENT}


def set_path(document: dict[str, Any], path: tuple[str | int, ...], value: object) -> None:
    """Set ``path`` in ``document`` (making containers on the way, an integer step meaning the
    first item of a list); ``ABSENT`` deletes. A step through a scalar leaves it alone."""
    target: Any = document
    for step, following in itertools.pairwise(path):
        fresh: Any = [{}] if isinstance(following, int) else {}
        if isinstance(step, int):
            if not isinstance(target, list) or not target:
                return
            target = target[0]
            continue
        if not isinstance(target, dict):
            return
        if not isinstance(target.get(step), dict | list):
            target[step] = fresh
        target = target[step]
    last = path[-1]
    if isinstance(last, int):
        if isinstance(target, list) and target:
            if value is ABSENT:
                del target[0]
            else:
                target[0] = value
        return
    if isinstance(target, dict):
        if value is ABSENT:
            target.pop(last, None)
        else:
            target[last] = value
