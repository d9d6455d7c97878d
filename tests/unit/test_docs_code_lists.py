"""The code lists, formats and rules written out in docs/ say what the code does.

docs/ is where partners and newcomers read the interfaces; the code is what runs. Each table
here is read from its page and compared with the constants the connectors use, both ways, so
neither can change without the other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

import yaml

from connectors.authorities import inbound as authorities_inbound
from connectors.authorities.native import (
    NOTIFICATION_FIELDS,
    REFERRAL_FIELDS,
    REFERRAL_SERVICES,
    REFERRAL_STATES,
    SERVICE_FIELDS,
    URGENCY,
)
from connectors.kela import intake
from connectors.kela.native import BENEFIT_CODES, COLUMNS, HEADER, KelaBenefit
from connectors.sote import inbound as sote_inbound
from connectors.sote.outbound import PRIORITIES, SERVICE_CODES, SERVICE_NAMES
from contracts import CONTRACT_DIR
from schemas.codes import EmploymentStatus, Partner, ServiceCode
from schemas.identity_code import CENTURY_SIGNS, CHECK_CHARACTERS, validate_identity_code

DOCS: Final = Path(__file__).resolve().parents[2] / "docs"


def _page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _section(page: str, heading: str) -> str:
    """The text under ``heading`` (any level) up to the next heading."""
    match = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#|\Z)", page, re.M | re.S)
    assert match is not None, f"no heading {heading!r}"
    return match.group(1)


def _rows(text: str) -> list[list[str]]:
    """The body rows of the first table in ``text``, cells stripped."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows.append(cells)
    return [row for row in rows[1:] if not set(row[0]) <= {"-", ":"}]


def _codes(cell: str) -> list[str]:
    """The `code` spans of a cell."""
    return re.findall(r"`([^`]+)`", cell)


def _code(cell: str) -> str:
    [code] = _codes(cell)
    return code


CODES_PAGE: Final = _page("codes.md")


def test_partners() -> None:
    rows = _rows(_section(CODES_PAGE, "Partners"))
    assert [_code(row[0]) for row in rows] == [partner.value for partner in Partner]


def test_municipalities_are_the_packaged_table() -> None:
    rows = _rows(_section(CODES_PAGE, "Municipalities of Päijät-Häme and their labour authority"))
    table = yaml.safe_load((CONTRACT_DIR / "municipalities.yaml").read_text(encoding="utf-8"))
    assert {_code(row[0]): _code(row[2]) for row in rows} == table
    assert len(rows) == len(table)


def test_employment_statuses() -> None:
    rows = _rows(_section(CODES_PAGE, "Employment status (`tyollisyystilanne`)"))
    documented = {_code(row[0]): _code(row[2]) for row in rows}
    assert documented == {status.national_code: status.value for status in EmploymentStatus}
    assert "06" not in documented


def test_service_codes() -> None:
    rows = _rows(_section(CODES_PAGE, "Services a jobseeker is in (`palvelu.koodi`)"))
    assert [_code(row[0]) for row in rows] == [code.value for code in ServiceCode]


def test_referral_services_receivers_and_fhir_names() -> None:
    rows = _rows(_section(CODES_PAGE, "Services a referral asks for (`palvelu` of a referral)"))
    assert {_code(row[0]): _code(row[3]) for row in rows} == {
        code: service.value for code, service in REFERRAL_SERVICES.items()
    }
    to_sote = {_code(row[0]): row[4] for row in rows if _codes(row[2]) == ["sote"]}
    assert to_sote == {SERVICE_CODES[service]: name for service, name in SERVICE_NAMES.items()}


def test_urgency() -> None:
    rows = _rows(_section(CODES_PAGE, "Urgency of a referral (`kiireellisyys`)"))
    assert {_code(row[0]): _code(row[1]) for row in rows} == {
        code: urgency.value for code, urgency in URGENCY.items()
    }
    assert {_code(row[1]): _code(row[2]) for row in rows} == {
        urgency.value: priority for urgency, priority in PRIORITIES.items()
    }


def test_referral_states_in_fhir_canonical_and_for_the_authorities() -> None:
    rows = _rows(_section(CODES_PAGE, "State of a referral"))
    assert {_code(row[0]): _code(row[1]) for row in rows} == {
        status: state.value for status, state in sote_inbound.TASK_STATES.items()
    }
    assert {_code(row[1]): _code(row[2]) for row in rows} == {
        state.value: tila for state, tila in REFERRAL_STATES.items()
    }
    others = _section(CODES_PAGE, "State of a referral").split("The other FHIR Task statuses")[1]
    assert set(_codes(others.split("valid FHIR")[0])) == set(sote_inbound.OTHER_FHIR_TASK_STATUSES)


def test_kela_benefits() -> None:
    rows = _rows(_section(CODES_PAGE, "Kela's benefits (`etuus`)"))
    assert [_code(row[0]) for row in rows] == [benefit.value for benefit in KelaBenefit]
    for row in rows:
        canonical = BENEFIT_CODES[KelaBenefit(_code(row[0]))]
        assert _code(row[2]) == canonical.value


def test_identity_code_century_signs_check_characters_and_examples() -> None:
    page = _page("identity-code.md")
    signs = {
        sign: int(re.match(r"\d{4}", row[1]).group(0))  # type: ignore[union-attr]
        for row in _rows("| sign | years |" + page.split("| century sign | birth years |")[1])
        for sign in _codes(row[0])
    }
    assert signs == CENTURY_SIGNS
    assert f"```\n{CHECK_CHARACTERS}\n```" in page
    examples = _rows(_section(page, "Check character"))
    assert len(examples) == 4
    for row in examples:
        code = _code(row[0])
        assert validate_identity_code(code) == code
        assert row[1] == code[:6] + code[7:10]
        assert int(row[2]) == int(row[1]) % 31
        assert _codes(row[3])[0] == code[-1]
        assert int(code[7:10]) >= 900


def test_kela_file_header_columns_and_reasons() -> None:
    page = _page("partners/kela.md")
    assert f"```\n{HEADER}\n```" in page
    columns = [
        name for row in _rows(page.split("The eleven columns")[1]) for name in _codes(row[0])
    ]
    assert columns == list(COLUMNS)
    reasons = [_code(row[0]) for row in _rows(_section(page, "Rejection reasons"))]
    assert set(reasons) == {*intake.REASONS, "conflicting-duplicate-record"}


def test_authority_message_keys_and_reasons() -> None:
    page = _page("partners/authorities.md")
    notification = [
        _code(row[0]) for row in _rows(_section(page, "Client-status change notification "
                                                      "(`in.<authority>.client-status`)"))
    ]  # fmt: skip
    assert notification == [
        *NOTIFICATION_FIELDS[:8],
        *(f"palvelu.{name}" for name in SERVICE_FIELDS),
        *NOTIFICATION_FIELDS[8:],
    ]
    referral = _rows(_section(page, "Service referral (`in.<authority>.service-referral`)"))
    assert [_code(row[0]) for row in referral] == list(REFERRAL_FIELDS)
    reasons = {
        code for row in _rows(_section(page, "Rejection reasons")) for code in _codes(row[0])
    }
    assert reasons == {
        *authorities_inbound.REASONS,
        "conflicting-duplicate-client-status",
        "conflicting-duplicate-service-referral",
    }


def test_sote_reasons() -> None:
    page = _page("partners/sote.md")
    reasons = {_code(row[0]) for row in _rows(_section(page, "Dead letters"))}
    assert reasons == {
        *sote_inbound.REASONS,
        "unknown-referral",
        "ambiguous-referral",
        "illegal-transition",
    }
