"""The configuration table of docs/operations.md, generated from ``HubSettings``.

Every field is one row: its variable, default, allowed values (from the type and its bounds)
and description. A field added to the settings appears here without anyone editing a table,
and a field without a description is refused, so the documentation cannot fall behind.
"""

from __future__ import annotations

import datetime as dt
import types
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from hub.core.settings import HubSettings

__all__ = ["settings_table"]

_DAY_MS = 86_400_000


def _members(annotation: Any) -> list[Any]:
    """The alternatives of ``X | None`` (or just ``X``), without ``None``."""
    if get_origin(annotation) in {Union, types.UnionType}:
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _bounds(field: FieldInfo) -> str:
    low = high = ""
    for rule in field.metadata:
        if isinstance(rule, Ge):
            low = f"≥ {rule.ge}"
        elif isinstance(rule, Gt):
            low = f"> {rule.gt}"
        elif isinstance(rule, Le):
            high = f"≤ {rule.le}"
        elif isinstance(rule, Lt):
            high = f"< {rule.lt}"
    if low.startswith("≥") and high.startswith("≤"):
        return f"{low[2:]} to {high[2:]}"
    return ", ".join(part for part in (low, high) if part)


def _allowed(field: FieldInfo) -> str:
    kinds = []
    for member in _members(field.annotation):
        if get_origin(member) is Literal:
            kinds.append(", ".join(f"`{value}`" for value in get_args(member)))
        elif isinstance(member, type) and issubclass(member, Enum):
            kinds.append(", ".join(f"`{item.value}`" for item in member))
        elif member is bool:
            kinds.append("`true`, `false`")
        elif member in {int, float}:
            kinds.append(_bounds(field) or ("whole number" if member is int else "number"))
        elif member is SecretStr:
            kinds.append("secret text")
        elif member is Path:
            kinds.append("path")
        elif member is dt.date:
            kinds.append("date (YYYY-MM-DD)")
        else:
            kinds.append("text")
    return "; ".join(kinds)


def _default(name: str, field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    shown = f"`{value}`"
    if name.endswith("_ms") and isinstance(value, int) and value >= _DAY_MS:
        shown += f" ({value / _DAY_MS:g} d)"
    return shown


def settings_table(model: type[BaseModel] = HubSettings, prefix: str = "HUB_") -> str:
    """The Markdown table of every setting of ``model``; refuses an undocumented field."""
    rows = ["| variable | default | allowed | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        if not field.description:
            raise ValueError(f"setting {name} has no description: add Field(description=...)")
        description = field.description.replace("|", "\\|").replace("\n", " ")
        rows.append(
            f"| `{prefix}{name.upper()}` | {_default(name, field)} | {_allowed(field)} "
            f"| {description} |"
        )
    return "\n".join(rows)
