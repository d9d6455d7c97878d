"""Whether a new JSON Schema of an event type breaks the consumers of a released one.

The rule (docs/canonical-events.md, "Schema evolution") has two directions, both checked
against every released schema of a type:

* **backward**: every event a release accepts, the current schema accepts. Canonical topics
  are kept forever, and whoever reads them with the current schema (the hub's own routes, a
  replay, a consumer that upgraded) meets every event ever written. Content models are closed,
  so a property the current schema does not declare is rejected.
* **forward**: every event the current schema accepts, each release accepts, except for
  properties the release does not declare: a consumer built on a release ignores properties
  it does not know (the tolerant reader). Consumers upgrade after the producer.

Both are one question, asked with the roles swapped: may the *writer's* schema accept an
instance the *reader's* schema rejects? ``compare`` answers it over the JSON Schema (draft
2020-12) the canonical models emit: ``type``, ``properties``, ``required``,
``additionalProperties``, ``enum``/``const`` (``Literal`` and enums), ``pattern``,
``minLength``/``maxLength``, ``minimum``/``maximum`` (and the exclusive forms),
``multipleOf``, ``format``, local ``$ref``/``$defs``, ``anyOf``/``oneOf`` and arrays. It is
conservative where it cannot decide: a changed regular expression counts as breaking (regular
expressions are not compared for inclusion), and so does any other keyword of the reader that
it does not understand and that differs from the writer's.

Pure functions: no files, no models, no output.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from schemas import _json_schema as js
from schemas._json_schema import Bound, Schema

__all__ = ["Breach", "Direction", "Finding", "compare", "compatibility"]


class Direction(StrEnum):
    """Who must still read whom."""

    BACKWARD = "backward"  # the current schema reads what a release wrote
    FORWARD = "forward"  # a release's consumer reads what the current schema writes


class Breach(StrEnum):
    """What a writer may send that the reader rejects: stable codes for tests and tools."""

    TYPE = "type"
    PROPERTY = "property"
    OPEN_MODEL = "open-model"
    REQUIRED = "required"
    ENUM = "enum"
    CONST = "const"
    PATTERN = "pattern"
    FORMAT = "format"
    BOUND = "bound"
    KEYWORD = "keyword"


@dataclass(frozen=True, slots=True)
class Finding:
    """One way the writer's events break the reader, at ``path`` inside the event."""

    direction: Direction
    breach: Breach
    path: str
    change: str
    detail: str
    remedy: str


#: What each breach is called, (going backward, going forward).
_CHANGE: Final[dict[Breach, tuple[str, str]]] = {
    Breach.TYPE: ("type narrowed", "type widened"),
    Breach.PROPERTY: ("property removed", "property no longer accepted by the release"),
    Breach.OPEN_MODEL: (
        "property added to an open model",
        "model opened over a released property",
    ),
    Breach.REQUIRED: ("property newly required", "property no longer required"),
    Breach.ENUM: ("enum value removed", "enum value added"),
    Breach.CONST: ("constant changed", "constant changed"),
    Breach.PATTERN: ("pattern changed", "pattern changed"),
    Breach.FORMAT: ("format changed", "format changed"),
    Breach.BOUND: ("bound tightened", "bound loosened"),
    Breach.KEYWORD: ("unchecked keyword changed", "unchecked keyword changed"),
}

_KEEP_AS_RELEASED: Final = "keep `{name}` as released"
_TEACH: Final = "keep the keyword as released, or teach schemas/compatibility.py to compare it"

#: How to fix a breach inside the major version, (backward, forward); ``{name}`` is the
#: property. The alternative of a new major version is always there too.
_REMEDY: Final[dict[Breach, tuple[str, str]]] = {
    Breach.PROPERTY: (
        "keep `{name}` in the model (its description can say it is no longer filled)",
        _KEEP_AS_RELEASED,
    ),
    Breach.OPEN_MODEL: (
        "leave `{name}` out: the released model was open, so events may already carry "
        "`{name}` with any value",
        _KEEP_AS_RELEASED,
    ),
    Breach.REQUIRED: (
        "make `{name}` optional: not required, with a default (`{name}: T | None = None`)",
        "keep `{name}` required, as released",
    ),
    Breach.ENUM: (
        "keep the released values (a description can say a value is no longer produced)",
        "keep the released values: consumers of the release reject a value they do not know",
    ),
    Breach.TYPE: (
        "accept the released type again",
        "keep the released type (a new type, null included, breaks consumers of the release)",
    ),
    Breach.KEYWORD: (_TEACH, _TEACH),
}

#: The keyword that refuses a writer's value → the breach it is.
_REFUSAL_BREACH: Final = {
    "type": Breach.TYPE,
    "enum": Breach.ENUM,
    "const": Breach.CONST,
    "pattern": Breach.PATTERN,
    "length": Breach.BOUND,
    "bound": Breach.BOUND,
}


def compatibility(released: Schema, current: Schema, release: str = "the release") -> list[Finding]:
    """Every way ``current`` breaks the consumers of ``released``, in both directions."""
    return [
        *compare(
            released,
            current,
            Direction.BACKWARD,
            writer_name=release,
            reader_name="the current schema",
        ),
        *compare(
            current,
            released,
            Direction.FORWARD,
            writer_name="the current schema",
            reader_name=f"a consumer of {release}",
        ),
    ]


def compare(
    writer: Schema,
    reader: Schema,
    direction: Direction,
    *,
    writer_name: str = "the writer",
    reader_name: str = "the reader",
) -> list[Finding]:
    """Every instance ``writer`` may accept and ``reader`` rejects, as findings.

    Going ``FORWARD`` the reader ignores properties it does not declare (the tolerant reader);
    going ``BACKWARD`` its closed models reject them.
    """
    walk = _Walk(_root(writer), _root(reader), direction, writer_name, reader_name, set())
    return walk.compare(writer, reader, "")


def _root(schema: Schema) -> Mapping[str, Any]:
    return schema if isinstance(schema, Mapping) else {}


@dataclass(slots=True)
class _Walk:
    """One comparison: the two documents (for ``$ref``), who is who, and the refs in progress."""

    writer_root: Mapping[str, Any]
    reader_root: Mapping[str, Any]
    direction: Direction
    writer_name: str
    reader_name: str
    active: set[tuple[str, str]] = field(default_factory=set)

    def finding(self, breach: Breach, path: str, detail: str) -> Finding:
        name = path.rsplit(".", 1)[-1] if path else "the event"
        side = 0 if self.direction is Direction.BACKWARD else 1
        remedy = _REMEDY.get(breach, (_KEEP_AS_RELEASED, _KEEP_AS_RELEASED))[side]
        return Finding(
            self.direction,
            breach,
            path or "(the event)",
            _CHANGE[breach][side],
            detail,
            remedy.format(name=name),
        )

    def _versus(self, what: str, writer: object, reader: object) -> str:
        return f"{what}: {writer} in {self.writer_name}, {reader} in {self.reader_name}"

    def compare(self, writer: Schema, reader: Schema, path: str) -> list[Finding]:
        w, w_ref = js.resolve(writer, self.writer_root)
        r, r_ref = js.resolve(reader, self.reader_root)
        if w_ref is None or r_ref is None:
            return self._compare(w, r, path)
        # Recursive models: a pair already being compared holds unless shown otherwise.
        key = (w_ref, r_ref)
        if key in self.active:
            return []
        self.active.add(key)
        try:
            return self._compare(w, r, path)
        finally:
            self.active.discard(key)

    def _compare(self, w: Schema, r: Schema, path: str) -> list[Finding]:
        if w is False or js.accepts_anything(r):
            return []
        if r is False:
            return [self.finding(Breach.TYPE, path, f"{self.reader_name} accepts nothing here")]
        w_node = w if isinstance(w, Mapping) else {}
        r_node = r if isinstance(r, Mapping) else {}
        if (w_branches := js.branches(w_node)) is not None:
            return [f for branch in w_branches for f in self.compare(branch, r_node, path)]
        if (r_branches := js.branches(r_node)) is not None:
            return self._against_union(w_node, r_branches, path)
        return self._against_node(w_node, r_node, path)

    def _against_union(
        self, w: Mapping[str, Any], branches: Sequence[Schema], path: str
    ) -> list[Finding]:
        """The writer must fit one branch; if none fits, report the nearest."""
        types = js.types(w)
        kinds = sorted(types - {"integer"} if "number" in types else types)
        if len(kinds) > 1:
            return [
                f for one in kinds for f in self._against_union({**w, "type": one}, branches, path)
            ]
        outcomes = []
        for branch in branches:
            findings = self.compare(w, branch, path)
            if not findings:
                return []
            resolved, _ = js.resolve(branch, self.reader_root)
            overlap = isinstance(resolved, Mapping) and bool(js.accepted(types, js.types(resolved)))
            outcomes.append((not overlap, len(findings), findings))
        return min(outcomes, key=lambda outcome: outcome[:2])[2]

    def _against_node(self, w: Mapping[str, Any], r: Mapping[str, Any], path: str) -> list[Finding]:
        findings = self._keywords(w, r, path)
        values = js.values(w)
        if values is not None:
            # Finitely many values: each is checked exactly, its type included.
            return findings + self._values(values, r, path)
        w_types, r_types = js.types(w), js.types(r)
        refused = w_types - js.accepted(w_types, r_types)
        if refused:
            findings.append(
                self.finding(
                    Breach.TYPE,
                    path,
                    f"{self.writer_name} allows {_names(refused)}; "
                    f"{self.reader_name} accepts only {_names(r_types)}",
                )
            )
        if (r_values := js.values(r)) is not None:
            breach = Breach.CONST if "const" in r else Breach.ENUM
            findings.append(
                self.finding(
                    breach,
                    path,
                    f"{self.reader_name} accepts only {_show(r_values)}; "
                    f"{self.writer_name} allows other values",
                )
            )
        common = js.accepted(w_types, r_types)
        if "string" in common:
            findings += self._strings(w, r, path)
        if common & {"number", "integer"}:
            findings += self._numbers(w, r, path)
        if "object" in common:
            findings += self._objects(w, r, path)
        if "array" in common:
            findings += self._arrays(w, r, path)
        return findings

    def _keywords(self, w: Mapping[str, Any], r: Mapping[str, Any], path: str) -> list[Finding]:
        """A reader keyword the checker does not understand must equal the writer's."""
        return [
            self.finding(
                Breach.KEYWORD,
                path,
                f"`{key}` is {_show_one(r[key])} in {self.reader_name} and "
                f"{_show_one(w.get(key))} in {self.writer_name}; the checker cannot compare it",
            )
            for key in sorted(r)
            if key not in js.UNDERSTOOD
            and key not in js.ANNOTATIONS
            and not key.startswith("x-")
            and w.get(key) != r[key]
        ]

    def _values(self, values: Sequence[Any], r: Mapping[str, Any], path: str) -> list[Finding]:
        """A writer with finitely many values: each must be valid for the reader."""
        refused: dict[Breach, list[Any]] = {}
        for value in values:
            breach = _REFUSAL_BREACH.get(js.value_refusal(value, r) or "")
            if breach is not None:
                refused.setdefault(breach, []).append(value)
        return [
            self.finding(
                breach,
                path,
                f"{self.writer_name} allows {_show(bad)}, which {self.reader_name} rejects",
            )
            for breach, bad in refused.items()
        ]

    def _strings(self, w: Mapping[str, Any], r: Mapping[str, Any], path: str) -> list[Finding]:
        findings = []
        for key, breach in (("pattern", Breach.PATTERN), ("format", Breach.FORMAT)):
            if key in r and w.get(key) != r[key]:
                findings.append(
                    self.finding(
                        breach,
                        path,
                        self._versus(key, _show_one(w.get(key)), _show_one(r[key])),
                    )
                )
        findings += self._bounds(w, r, path, "length", "minLength", "maxLength")
        return findings

    def _numbers(self, w: Mapping[str, Any], r: Mapping[str, Any], path: str) -> list[Finding]:
        findings = []
        w_low, r_low = js.lower(w), js.lower(r)
        if r_low is not None and (w_low is None or js.stricter_low(r_low, w_low)):
            findings.append(
                self.finding(
                    Breach.BOUND, path, self._versus("lower bound", _bound(w_low), _bound(r_low))
                )
            )
        w_high, r_high = js.upper(w), js.upper(r)
        if r_high is not None and (w_high is None or js.stricter_high(r_high, w_high)):
            findings.append(
                self.finding(
                    Breach.BOUND, path, self._versus("upper bound", _bound(w_high), _bound(r_high))
                )
            )
        step = r.get("multipleOf")
        if step is not None and not js.divides(step, w.get("multipleOf")):
            findings.append(
                self.finding(
                    Breach.BOUND,
                    path,
                    self._versus("multipleOf", _show_one(w.get("multipleOf")), _show_one(step)),
                )
            )
        return findings

    def _bounds(
        self, w: Mapping[str, Any], r: Mapping[str, Any], path: str, what: str, low: str, high: str
    ) -> list[Finding]:
        findings = []
        if r.get(low, 0) > w.get(low, 0):
            findings.append(
                self.finding(
                    Breach.BOUND, path, self._versus(f"minimum {what}", w.get(low, 0), r[low])
                )
            )
        if high in r and w.get(high, math.inf) > r[high]:
            findings.append(
                self.finding(
                    Breach.BOUND,
                    path,
                    self._versus(f"maximum {what}", _show_one(w.get(high)), r[high]),
                )
            )
        return findings

    def _objects(self, w: Mapping[str, Any], r: Mapping[str, Any], path: str) -> list[Finding]:
        w_props: Mapping[str, Schema] = w.get("properties", {})
        r_props: Mapping[str, Schema] = r.get("properties", {})
        w_extra: Schema = w.get("additionalProperties", True)
        r_extra: Schema = r.get("additionalProperties", True)
        findings = [
            finding
            for name, schema in w_props.items()
            for finding in self._property(name, schema, r_props.get(name, r_extra), path)
        ]
        if w_extra is not False:
            findings += [
                finding
                for name, schema in r_props.items()
                if name not in w_props
                for finding in self._open_writer(name, w_extra, schema, path)
            ]
            findings += self._property("*", w_extra, r_extra, path)
        w_required = set(w.get("required", ()))
        findings += [
            self.finding(
                Breach.REQUIRED,
                _join(path, name),
                f"{self.reader_name} requires `{name}`; {self.writer_name} lets it be absent",
            )
            for name in r.get("required", ())
            if name not in w_required
        ]
        return findings

    def _property(self, name: str, w: Schema, r: Schema, path: str) -> list[Finding]:
        """A property the writer may send (``*``: any it does not declare) against the reader."""
        if r is not False:
            return self.compare(w, r, _join(path, name))
        if self.direction is Direction.FORWARD:
            return []  # the tolerant reader ignores what it does not know
        what = "undeclared properties" if name == "*" else f"`{name}`"
        return [
            self.finding(
                Breach.PROPERTY,
                _join(path, name),
                f"{self.writer_name} allows {what}; "
                f"the closed model of {self.reader_name} rejects it",
            )
        ]

    def _open_writer(self, name: str, w_extra: Schema, r: Schema, path: str) -> list[Finding]:
        """A property only the reader declares, where the writer's model is not closed."""
        if not js.accepts_anything(w_extra) or js.accepts_anything(r):
            return self.compare(w_extra, r, _join(path, name))
        return [
            self.finding(
                Breach.OPEN_MODEL,
                _join(path, name),
                f"the open model of {self.writer_name} allows `{name}` with any value; "
                f"{self.reader_name} constrains it",
            )
        ]

    def _arrays(self, w: Mapping[str, Any], r: Mapping[str, Any], path: str) -> list[Finding]:
        findings = self.compare(w.get("items", True), r.get("items", True), f"{path}[]")
        findings += self._bounds(w, r, path, "item count", "minItems", "maxItems")
        if r.get("uniqueItems") and not w.get("uniqueItems"):
            findings.append(self.finding(Breach.BOUND, path, "items must now be unique"))
        return findings


def _bound(bound: Bound | None) -> str:
    if bound is None:
        return "none"
    return f"{'>' if bound[1] else '>='} {bound[0]}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _names(types: Iterable[str]) -> str:
    return ", ".join(sorted(types))


def _show_one(value: Any) -> str:
    return "none" if value is None else repr(value)


def _show(values: Iterable[Any]) -> str:
    return ", ".join(repr(v) for v in values)
