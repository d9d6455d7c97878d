"""The JSON Schema (draft 2020-12) vocabulary the compatibility checker reads.

Small pure helpers over one schema node at a time: following local ``$ref``s, the types and
values a node allows, its numeric bounds. Nothing here knows about writers, readers or
findings (``schemas.compatibility`` does).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

__all__ = [
    "ALL_TYPES",
    "ANNOTATIONS",
    "UNDERSTOOD",
    "Bound",
    "Schema",
    "accepted",
    "accepts_anything",
    "branches",
    "divides",
    "lower",
    "resolve",
    "stricter_high",
    "stricter_low",
    "type_of",
    "types",
    "upper",
    "value_refusal",
    "values",
]

Schema = Mapping[str, Any] | bool

#: Keywords that never decide validity.
ANNOTATIONS: Final = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "$schema",
        "$id",
        "$defs",
        "discriminator",
        "contentMediaType",
        "contentEncoding",
    }
)
UNDERSTOOD: Final = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "anyOf",
        "oneOf",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
    }
)
ALL_TYPES: Final = frozenset({"null", "boolean", "object", "array", "number", "integer", "string"})


def resolve(schema: Schema, root: Mapping[str, Any]) -> tuple[Schema, str | None]:
    """Follow local ``$ref``s; keywords beside a ``$ref`` apply too (draft 2020-12)."""
    first_ref = None
    seen: set[str] = set()
    while isinstance(schema, Mapping) and "$ref" in schema:
        ref = str(schema["$ref"])
        if ref in seen:
            raise ValueError(f"$ref {ref} refers to itself")
        seen.add(ref)
        first_ref = first_ref or ref
        target = _pointer(root, ref)
        siblings = {k: v for k, v in schema.items() if k != "$ref" and k not in ANNOTATIONS}
        schema = {**target, **siblings} if siblings and isinstance(target, Mapping) else target
    return schema, first_ref


def _pointer(root: Mapping[str, Any], ref: str) -> Schema:
    if not ref.startswith("#"):
        raise ValueError(f"only local $refs are supported, not {ref}")
    node: Any = root
    for part in filter(None, ref[1:].split("/")):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    if not isinstance(node, Mapping | bool):
        raise ValueError(f"$ref {ref} does not point at a schema")
    return node


def accepts_anything(schema: Schema) -> bool:
    if isinstance(schema, bool):
        return schema
    return all(key in ANNOTATIONS or key.startswith("x-") for key in schema)


def branches(node: Mapping[str, Any]) -> list[Schema] | None:
    """The alternatives of an ``anyOf``/``oneOf`` node, each with the node's other keywords.

    ``oneOf`` is read as ``anyOf``: the models emit it only for discriminated unions, whose
    branches never overlap.
    """
    key = "anyOf" if "anyOf" in node else "oneOf" if "oneOf" in node else None
    if key is None:
        return None
    rest = {k: v for k, v in node.items() if k != key and k not in ANNOTATIONS}
    return [{**rest, **b} if isinstance(b, Mapping) else b for b in node[key]]


def values(node: Mapping[str, Any]) -> list[Any] | None:
    if "const" in node:
        return [node["const"]]
    if "enum" in node:
        return list(node["enum"])
    return None


def type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def types(node: Mapping[str, Any]) -> frozenset[str]:
    """The JSON types a node allows: its ``type``, narrowed by its ``enum``/``const``."""
    allowed = values(node)
    declared = node.get("type")
    if declared is None:
        kinds = ALL_TYPES
    else:
        kinds = frozenset([declared] if isinstance(declared, str) else declared)
        if "number" in kinds:
            kinds |= {"integer"}
    if allowed is not None:
        kinds &= {type_of(v) for v in allowed}
    return kinds


def accepted(writer: frozenset[str], reader: frozenset[str]) -> frozenset[str]:
    """The writer's types the reader accepts (an integer is a number)."""
    return frozenset(t for t in writer if t in reader or (t == "integer" and "number" in reader))


def same_value(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true is not 1."""
    return type_of(a) == type_of(b) and a == b


def value_refusal(value: Any, schema: Mapping[str, Any]) -> str | None:
    """The keyword of ``schema`` that refuses ``value`` (``type``, ``enum``, ``const``,
    ``pattern``, ``length``, ``bound``), or None when it is accepted.

    Used where a writer allows only finitely many values: each is checked exactly instead of
    comparing keywords (so a new pattern that every released value matches is no breach).
    """
    kind = type_of(value)
    allowed = values(schema)
    if not accepted(frozenset({kind}), types(schema)):
        return "const" if "const" in schema else "enum" if "enum" in schema else "type"
    if allowed is not None and not any(same_value(value, a) for a in allowed):
        return "const" if "const" in schema else "enum"
    if kind == "string":
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return "pattern"
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", math.inf):
            return "length"
    if kind in {"integer", "number"} and not within(value, lower(schema), upper(schema)):
        return "bound"
    return None


Bound = tuple[float, bool]  # (limit, exclusive)


def lower(node: Mapping[str, Any]) -> Bound | None:
    return _tightest(node, "minimum", "exclusiveMinimum", max)


def upper(node: Mapping[str, Any]) -> Bound | None:
    return _tightest(node, "maximum", "exclusiveMaximum", min)


def _tightest(node: Mapping[str, Any], inclusive: str, exclusive: str, pick: Any) -> Bound | None:
    bounds: list[Bound] = []
    if inclusive in node:
        bounds.append((node[inclusive], False))
    if exclusive in node:
        bounds.append((node[exclusive], True))
    if not bounds:
        return None
    limit = pick(b[0] for b in bounds)
    return (limit, any(b[1] for b in bounds if b[0] == limit))


def stricter_low(a: Bound, b: Bound) -> bool:
    """Whether lower bound ``a`` refuses a number lower bound ``b`` lets through."""
    return a[0] > b[0] or (a[0] == b[0] and a[1] and not b[1])


def stricter_high(a: Bound, b: Bound) -> bool:
    """Whether upper bound ``a`` refuses a number upper bound ``b`` lets through."""
    return a[0] < b[0] or (a[0] == b[0] and a[1] and not b[1])


def within(value: float, low: Bound | None, high: Bound | None) -> bool:
    point = (value, False)
    return not (
        (low is not None and stricter_low(low, point))
        or (high is not None and stricter_high(high, point))
    )


def divides(step: float, writer_step: float | None) -> bool:
    """Whether every multiple of ``writer_step`` is a multiple of ``step``."""
    return writer_step is not None and (writer_step / step).is_integer()
