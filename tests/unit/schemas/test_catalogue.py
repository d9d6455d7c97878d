"""The catalogue of canonical event types and the committed JSON Schema files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.catalogue import (
    EVENT_TYPES,
    SCHEMA_DIR,
    check_schemas,
    export_schemas,
    json_schema_for,
    render_schema,
)
from schemas.envelope import (
    BenefitDayEvent,
    BenefitDayV2Event,
    BenefitThresholdEvent,
    ClientStatusEvent,
    ReferralStatusEvent,
    ServiceReferralEvent,
    dataschema_for,
)

DESIGN_TYPES = {
    "fi.paijathame.hub.client-status.v1": ClientStatusEvent,
    "fi.paijathame.hub.benefit-day.v1": BenefitDayEvent,
    "fi.paijathame.hub.benefit-day.v2": BenefitDayV2Event,
    "fi.paijathame.hub.service-referral.v1": ServiceReferralEvent,
    "fi.paijathame.hub.referral-status.v1": ReferralStatusEvent,
    "fi.paijathame.hub.benefit-threshold.v1": BenefitThresholdEvent,
}
DATA_MODEL_OF = {
    "fi.paijathame.hub.client-status.v1": "ClientStatus",
    "fi.paijathame.hub.benefit-day.v1": "BenefitDay",
    "fi.paijathame.hub.benefit-day.v2": "BenefitDayV2",
    "fi.paijathame.hub.service-referral.v1": "ServiceReferral",
    "fi.paijathame.hub.referral-status.v1": "ReferralStatus",
    "fi.paijathame.hub.benefit-threshold.v1": "BenefitThreshold",
}
#: Every committed schema: the canonical events and the state's statistics document.
PUBLISHED_TYPES = {*DESIGN_TYPES, "fi.paijathame.hub.monthly-statistics.v1"}
WITH_PERSON_ID = [t for t in DESIGN_TYPES if t != "fi.paijathame.hub.referral-status.v1"]


def test_event_types_are_exactly_the_five_of_the_design() -> None:
    assert EVENT_TYPES == DESIGN_TYPES


@pytest.mark.parametrize("event_type", DESIGN_TYPES)
def test_each_envelope_is_registered_under_its_own_type(event_type: str) -> None:
    assert EVENT_TYPES[event_type].model_fields["type"].default == event_type


def test_committed_schema_files_match_the_models() -> None:
    drifts = check_schemas()
    assert drifts == [], "".join(drift.diff for drift in drifts)


def test_schema_directory_holds_one_file_per_type_and_nothing_else() -> None:
    names = {path.name for path in SCHEMA_DIR.glob("*.json")}
    assert names == {f"{event_type}.schema.json" for event_type in PUBLISHED_TYPES}


def test_exported_schemas_pass_the_check(tmp_path: Path) -> None:
    directory = tmp_path / "nested" / "json"
    written = export_schemas(directory)
    assert sorted(written) == sorted(directory / f"{t}.schema.json" for t in PUBLISHED_TYPES)
    assert check_schemas(directory) == []


def test_check_on_an_empty_directory_reports_every_type(tmp_path: Path) -> None:
    drifts = check_schemas(tmp_path)
    assert {drift.path for drift in drifts} == {
        tmp_path / f"{t}.schema.json" for t in PUBLISHED_TYPES
    }


def test_check_detects_a_changed_file(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    changed = tmp_path / "fi.paijathame.hub.benefit-day.v1.schema.json"
    schema = json.loads(changed.read_text(encoding="utf-8"))
    schema["description"] = "edited by hand"
    changed.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")

    drifts = check_schemas(tmp_path)

    assert [drift.path for drift in drifts] == [changed]
    assert "edited by hand" in drifts[0].diff


def test_check_detects_a_whitespace_only_change(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    changed = tmp_path / "fi.paijathame.hub.client-status.v1.schema.json"
    changed.write_text(changed.read_text(encoding="utf-8").rstrip("\n"), encoding="utf-8")
    assert [drift.path for drift in check_schemas(tmp_path)] == [changed]


def test_check_detects_a_missing_file(tmp_path: Path) -> None:
    export_schemas(tmp_path)
    missing = tmp_path / "fi.paijathame.hub.referral-status.v1.schema.json"
    missing.unlink()

    drifts = check_schemas(tmp_path)

    assert [drift.path for drift in drifts] == [missing]
    assert drifts[0].diff


@pytest.mark.parametrize("event_type", DESIGN_TYPES)
def test_rendered_schema_is_the_json_schema_with_a_trailing_newline(event_type: str) -> None:
    text = render_schema(event_type)
    assert text.endswith("}\n")
    assert json.loads(text) == json_schema_for(event_type)


@pytest.mark.parametrize("event_type", DESIGN_TYPES)
def test_schema_declares_draft_2020_12_and_its_dataschema_id(event_type: str) -> None:
    schema = json_schema_for(event_type)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == dataschema_for(event_type)
    assert schema["properties"]["type"]["const"] == event_type


def _data_model_schema(event_type: str) -> dict[str, Any]:
    schema = json_schema_for(event_type)
    name = DATA_MODEL_OF[event_type]
    assert schema["properties"]["data"] == {"$ref": f"#/$defs/{name}"}
    definition: dict[str, Any] = schema["$defs"][name]
    return definition


@pytest.mark.parametrize("event_type", WITH_PERSON_ID)
def test_person_id_is_marked_as_personal_data(event_type: str) -> None:
    person_id = _data_model_schema(event_type)["properties"]["person_id"]
    assert person_id["x-personal-data"] is True
    assert person_id["pattern"] == r"^\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]$"


def test_referral_status_carries_no_person_id() -> None:
    schema = _data_model_schema("fi.paijathame.hub.referral-status.v1")
    assert "person_id" not in schema["properties"]
    assert "x-personal-data" not in render_schema("fi.paijathame.hub.referral-status.v1")


@pytest.mark.parametrize("event_type", DESIGN_TYPES)
def test_envelope_subject_is_not_marked_as_personal_data(event_type: str) -> None:
    subject = json_schema_for(event_type)["properties"]["subject"]
    assert "x-personal-data" not in subject
    assert subject["pattern"] == "^p-[0-9a-f]{32}$"


@pytest.mark.parametrize("event_type", DESIGN_TYPES)
def test_envelope_and_data_models_forbid_additional_properties(event_type: str) -> None:
    schema = json_schema_for(event_type)
    assert schema["additionalProperties"] is False
    objects = [d for d in schema["$defs"].values() if d.get("type") == "object"]
    assert _data_model_schema(event_type) in objects
    for definition in objects:
        assert definition["additionalProperties"] is False, definition["title"]
