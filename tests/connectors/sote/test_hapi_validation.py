"""Every FHIR resource the hub produces, and every one it publishes, passes the HAPI FHIR
validator (R4) with the hub's profile, CodeSystems and ValueSets loaded - what a real FHIR
server checks - and not only ``fhir.resources``.

One JVM start validates the whole module's batch (tens of seconds): the fixture renders every
case first. Bad resources go into the same batch to prove the validator can fail: a code not in
the service CodeSystem, a missing id, an organisation without its identifier system.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Final

import pytest

from connectors.sote.outbound import CONFORMANCE_DIR, Organisations, render_service_request
from tests.connectors.sote.test_outbound import PROJECTED, projected
from tests.fhir_validator import HAPI_VERSION, POM, Issue, validate

EXAMPLES: Final = Path(__file__).parents[3] / "contracts" / "sote" / "examples" / "service-request"
#: Warnings that are not problems (a server stores a resource with warnings; errors refuse it):
#: FHIR's best practice of a human-readable narrative, which the interface leaves out on
#: purpose (the reason may hold health information), and HAPI's doubt about a year before
#: 1900 or far ahead, which the referral's own dates may hold (the boundary cases here do).
ACCEPTED_WARNINGS: Final = (
    "Constraint failed: dom-6",
    "is outside the range of reasonable years",
)
#: Temporary identity codes (individual numbers 900-999) of every birth-century sign.
CODES: Final = ("131052-930V", "010100+990C", "290200A9200", "311299Y999E", "010101B900R")


def _rendered_cases() -> dict[str, bytes]:
    cases: dict[str, bytes] = {}
    for example in sorted(EXAMPLES.glob("*.json")):
        if not example.name.endswith(".expected.json"):
            body = json.loads(example.read_text(encoding="utf-8"))
            cases[f"example {example.stem}"] = render_service_request(body)
    for sender in ("lahti", "ph"):
        for service in (
            "rehabilitative_work_activity",
            "health_check",
            "work_ability_assessment",
            "multisector_support",
        ):
            for urgency in ("routine", "urgent"):
                data = projected(sender=sender, service=service, urgency=urgency)
                cases[f"{sender} {service} {urgency}"] = render_service_request(data)
    for index, code in enumerate(CODES):
        cases[f"identity code {index}"] = render_service_request(projected(person_id=code))
    edges: dict[str, dict[str, object]] = {
        "blank reason": {"reason": " "},
        "odd reason": {"reason": 'rivi 1\nrivi 2 <&>"\\ ääkköset € 💡'},
        "one-character referral id": {"referral_id": "x"},
        "longest referral id": {"referral_id": "L/" + "ä" * 47 + "!"},
        "offset +14:00": {"sent_at": "2025-03-14T23:00:00+14:00"},
        "offset -14:00": {"sent_at": "2025-03-14T00:00:00-14:00"},
        "utc": {"sent_at": "2025-03-14T08:00:00+00:00"},
        "fractions": {"sent_at": "2025-03-14T10:00:59.999999+02:00"},
        "earliest start": {"requested_start": "1000-01-01"},
        "latest start": {"requested_start": "9999-12-31"},
        "leap day": {"requested_start": "2028-02-29", "sent_at": "2028-02-29T23:59:59+02:00"},
    }
    for name, data in edges.items():
        cases[name] = render_service_request(projected(**data))
    configured = Organisations(lahti="1.2.246.10.1.10", ph="2.25.0", sote="0.0")
    cases["configured oids"] = render_service_request(PROJECTED, configured)
    return cases


def _broken(change: str) -> bytes:
    resource: dict[str, Any] = json.loads(render_service_request(PROJECTED))
    if change == "unknown service code":
        resource["code"]["coding"][0]["code"] = "KOTOUTUMISKOULUTUS"
    elif change == "no id":
        del resource["id"]
    elif change == "requester without system":
        del resource["requester"]["identifier"]["system"]
    elif change == "other service system":
        resource["code"]["coding"][0]["system"] = "urn:fi:paijathame:hub:other"
    return json.dumps(resource).encode()


#: Broken resource → a phrase the validator's error must hold.
BROKEN: Final = {
    "unknown service code": "KOTOUTUMISKOULUTUS",
    "no id": "ServiceRequest.id: minimum required = 1",
    "requester without system": "ServiceRequest.requester.identifier.system",
    "other service system": "urn:fi:paijathame:hub:service",
}
RENDERED: Final = _rendered_cases()
PUBLISHED: Final = {p.name: p.read_bytes() for p in sorted(CONFORMANCE_DIR.glob("*.json"))}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, tuple[Issue, ...]]:
    batch = {
        **{f"rendered {name}": body for name, body in RENDERED.items()},
        **{f"published {name}": body for name, body in PUBLISHED.items()},
        **{f"broken {name}": _broken(name) for name in BROKEN},
    }
    return validate(batch, CONFORMANCE_DIR)


def _problems(issues: tuple[Issue, ...]) -> list[Issue]:
    return [
        issue
        for issue in issues
        if issue.severity in {"error", "fatal"}
        or (
            issue.severity == "warning"
            and not any(accepted in issue.message for accepted in ACCEPTED_WARNINGS)
        )
    ]


@pytest.mark.parametrize("name", sorted(RENDERED))
def test_every_rendered_service_request_passes_hapi(
    outcomes: dict[str, tuple[Issue, ...]], name: str
) -> None:
    assert _problems(outcomes[f"rendered {name}"]) == []


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_published_conformance_resource_passes_hapi(
    outcomes: dict[str, tuple[Issue, ...]], name: str
) -> None:
    assert _problems(outcomes[f"published {name}"]) == []


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_resource_fails_hapi(outcomes: dict[str, tuple[Issue, ...]], name: str) -> None:
    errors = [i for i in outcomes[f"broken {name}"] if i.severity in {"error", "fatal"}]
    assert any(BROKEN[name] in issue.message for issue in errors), errors


def test_the_batch_covers_the_boundaries() -> None:
    starts = {json.loads(body)["occurrencePeriod"]["start"] for body in RENDERED.values()}
    assert {"1000-01-01", "9999-12-31"} <= starts
    stamps = {json.loads(body)["authoredOn"] for body in RENDERED.values()}
    assert any(stamp.endswith("+14:00") for stamp in stamps)
    assert any(stamp.endswith("-14:00") for stamp in stamps)
    assert dt.date(2028, 2, 29).isoformat() in starts


def test_the_pinned_version_is_the_poms() -> None:
    versions = re.findall(r"<hapi\.version>([^<]*)</hapi\.version>", POM.read_text("utf-8"))
    assert versions == [HAPI_VERSION]
