"""The organisation OIDs come from the settings and reach the running hub's renderer; the
published conformance resources agree with the code that uses them."""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

from connectors import CONNECTORS
from connectors.authorities.native import REFERRAL_STATES
from connectors.sote.inbound import TASK_STATES
from connectors.sote.outbound import CONFORMANCE_DIR, SERVICE_CODES, SERVICE_NAMES, SERVICE_SYSTEM
from hub.app.runtime import renderers_for
from hub.core.errors import ConfigurationError
from hub.core.settings import load_settings
from tests.connectors.sote.test_outbound import PROJECTED

FORMAT: Final = "fhir-servicerequest"


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CONFORMANCE_DIR / name).read_text(encoding="utf-8"))
    return loaded


def test_the_running_hub_renders_with_the_configured_oids() -> None:
    settings = load_settings(
        organisation_oid_lahti="1.2.246.10.1.10",
        organisation_oid_ph="1.2.246.10.2.10",
        organisation_oid_sote="1.2.246.10.3.10",
    )
    resource = json.loads(renderers_for(CONNECTORS, settings)[FORMAT].render(PROJECTED))
    assert resource["requester"]["identifier"]["value"] == "urn:oid:1.2.246.10.1.10"
    assert resource["performer"][0]["identifier"]["value"] == "urn:oid:1.2.246.10.3.10"


def test_without_settings_the_renderer_uses_the_defaults() -> None:
    resource = json.loads(renderers_for(CONNECTORS)[FORMAT].render(PROJECTED))
    assert resource["requester"]["identifier"]["value"] == "urn:oid:1.2.246.10.9990001.10"


@pytest.mark.parametrize("variable", ["LAHTI", "PH", "SOTE"])
@pytest.mark.parametrize("value", ["lahti", "1", "1.02.3", "urn:oid:1.2.3", "3.1"])
def test_a_setting_that_is_no_oid_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(f"HUB_ORGANISATION_OID_{variable}", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"HUB_ORGANISATION_OID_{variable}:")
    assert "\n" not in str(caught.value)


def test_the_service_code_system_is_the_renderers() -> None:
    code_system = _load("CodeSystem-service.json")
    assert code_system["url"] == SERVICE_SYSTEM == "urn:fi:paijathame:hub:service"
    concepts = {c["code"]: c["display"] for c in code_system["concept"]}
    assert concepts == {SERVICE_CODES[s]: SERVICE_NAMES[s] for s in SERVICE_CODES}
    assert code_system["count"] == len(concepts)
    assert code_system["content"] == "complete"


def test_the_value_sets_hold_their_code_systems() -> None:
    for name in ("service", "referral-status"):
        value_set = _load(f"ValueSet-{name}.json")
        code_system = _load(f"CodeSystem-{name}.json")
        assert code_system["valueSet"] == value_set["url"]
        assert value_set["compose"] == {"include": [{"system": code_system["url"]}]}


def test_the_concept_map_is_the_hubs_status_mapping() -> None:
    concept_map = _load("ConceptMap-task-status-to-referral-status.json")
    (group,) = concept_map["group"]
    mapped = {e["code"]: [t["code"] for t in e["target"]] for e in group["element"]}
    assert mapped == {task: [REFERRAL_STATES[state]] for task, state in TASK_STATES.items()}
    statuses = {c["code"] for c in _load("CodeSystem-referral-status.json")["concept"]}
    assert statuses == set(REFERRAL_STATES.values())
    assert group["target"] == _load("CodeSystem-referral-status.json")["url"]


def test_the_profile_fixes_the_systems_the_renderer_writes() -> None:
    profile = _load("StructureDefinition-service-request.json")
    fixed = {
        e["path"]: e["fixedUri"] for e in profile["differential"]["element"] if "fixedUri" in e
    }
    assert fixed["ServiceRequest.code.coding.system"] == SERVICE_SYSTEM
    bound = {
        e["path"]: e["binding"]["valueSet"]
        for e in profile["differential"]["element"]
        if "binding" in e
    }
    assert bound == {"ServiceRequest.code": _load("ValueSet-service.json")["url"]}
