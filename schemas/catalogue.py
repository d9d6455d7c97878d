"""Every canonical event type, and the JSON Schema files generated from the models.

``schemas/json/<type>.schema.json`` is committed: partner IT teams read it, and a test fails
when it differs from what the models generate (``hub schemas check``).
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel

from schemas.envelope import (
    BenefitDayEvent,
    BenefitDayV2Event,
    BenefitThresholdEvent,
    ClientStatusEvent,
    CloudEvent,
    ReferralStatusEvent,
    ServiceReferralEvent,
    dataschema_for,
)
from schemas.monthly_statistics import MONTHLY_STATISTICS_V1, MonthlyStatisticsEvent

__all__ = [
    "DOCUMENT_TYPES",
    "EVENT_TYPES",
    "SCHEMA_DIR",
    "SCHEMA_TYPES",
    "SchemaDrift",
    "check_schemas",
    "export_schemas",
    "json_schema_for",
    "render_schema",
]

SCHEMA_DIR: Final = Path(__file__).parent / "json"

#: Canonical type → its envelope model. The major version is part of the type.
EVENT_TYPES: Final[dict[str, type[CloudEvent[Any]]]] = {
    model.model_fields["type"].default: model
    for model in (
        ClientStatusEvent,
        BenefitDayEvent,
        BenefitDayV2Event,
        ServiceReferralEvent,
        ReferralStatusEvent,
        BenefitThresholdEvent,
    )
}

#: Documents the hub publishes to partners that are about no person (aggregates): not
#: canonical events (nothing routes or projects them), but schemas partners rely on alike.
DOCUMENT_TYPES: Final[dict[str, type[BaseModel]]] = {MONTHLY_STATISTICS_V1: MonthlyStatisticsEvent}
#: Every type with a committed (and released) JSON Schema file.
SCHEMA_TYPES: Final[dict[str, type[BaseModel]]] = {**EVENT_TYPES, **DOCUMENT_TYPES}


def json_schema_for(event_type: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one canonical type, envelope included."""
    model = SCHEMA_TYPES[event_type]
    schema = model.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": dataschema_for(event_type),
        **schema,
    }


def render_schema(event_type: str) -> str:
    """The committed text of one schema file: stable key order, trailing newline."""
    return json.dumps(json_schema_for(event_type), indent=2, ensure_ascii=False) + "\n"


def _schema_path(directory: Path, event_type: str) -> Path:
    return directory / f"{event_type}.schema.json"


def export_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write one schema file per canonical type and major version; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type in SCHEMA_TYPES:
        path = _schema_path(directory, event_type)
        path.write_text(render_schema(event_type), encoding="utf-8")
        written.append(path)
    return written


class SchemaDrift:
    """One schema file that differs from what the models generate."""

    def __init__(self, path: Path, diff: str) -> None:
        self.path = path
        self.diff = diff


def check_schemas(directory: Path = SCHEMA_DIR) -> list[SchemaDrift]:
    """Compare the files in ``directory`` with the models; return every difference."""
    drifts = []
    for event_type in SCHEMA_TYPES:
        path = _schema_path(directory, event_type)
        expected = render_schema(event_type)
        actual = path.read_text(encoding="utf-8") if path.exists() else ""
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    actual.splitlines(keepends=True),
                    expected.splitlines(keepends=True),
                    fromfile=f"{path} (committed)",
                    tofile=f"{path} (generated)",
                )
            )
            drifts.append(SchemaDrift(path, diff or "file is missing"))
    return drifts
