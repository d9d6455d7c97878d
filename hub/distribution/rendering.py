"""Renderers: a projected canonical event → the bytes a partner receives.

A contract names its format; a connector registers the renderer for its partner's native
format. The canonical CloudEvents JSON renderer is built in. Renderers receive only what the
projection left, so they cannot send what the contract does not allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from schemas.envelope import CLOUDEVENTS_CONTENT_TYPE

__all__ = ["CLOUDEVENTS_JSON", "Renderer", "render_cloudevent_json"]


@dataclass(frozen=True, slots=True)
class Renderer:
    """A named output format and how to produce it."""

    format: str
    content_type: str
    render: Callable[[Mapping[str, Any]], bytes]


def render_cloudevent_json(projected: Mapping[str, Any]) -> bytes:
    """The projected event as CloudEvents JSON (structured mode)."""
    return orjson.dumps(projected)


CLOUDEVENTS_JSON: Final = Renderer(
    "cloudevents-json", CLOUDEVENTS_CONTENT_TYPE, render_cloudevent_json
)
