"""Data contracts: who receives which canonical events, which fields, on what legal basis.

Loaded from ``contracts/<partner>.yaml`` and the municipality table at start-up and validated
against the canonical models, the topic catalogue and the registered renderers; a broken
contract stops start-up with a message naming the file and the field.

``disclosures_for`` decides the recipients of one event; ``project`` removes every field the
recipient's contract does not list. Every outbound path goes through both (see
``hub.distribution``): there is no other way from a canonical topic to a partner topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts import CONTRACT_DIR, MUNICIPALITIES_FILE
from hub.errors import ConfigurationError
from hub.topics import TOPICS
from schemas.catalogue import EVENT_TYPES
from schemas.codes import Authority, Partner

__all__ = [
    "ENVELOPE_ATTRIBUTES",
    "FAMILY_DATA_FIELDS",
    "Condition",
    "Contract",
    "ContractBook",
    "Disclosure",
    "LegalBasis",
    "Receipt",
    "load_contract_book",
    "load_municipalities",
    "project",
]

#: CloudEvents attributes every recipient gets: they carry no personal data beyond the
#: pseudonymous ``subject``.
ENVELOPE_ATTRIBUTES: Final = (
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
)


def _family_of(event_type: str) -> str:
    # fi.paijathame.hub.<family>.v<major>
    return event_type.split(".")[-2]


#: Event family → the names of its ``data`` fields (from the canonical models).
FAMILY_DATA_FIELDS: Final[dict[str, frozenset[str]]] = {
    _family_of(event_type): frozenset(model.model_fields["data"].annotation.model_fields)  # type: ignore[union-attr]
    for event_type, model in EVENT_TYPES.items()
}

_CONTRACT_CONFIG: Final = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class Condition(StrEnum):
    """When a receipt applies to an event."""

    ALWAYS = "always"
    HOME_MUNICIPALITY_IN_AREA = "home-municipality-in-area"


class LegalBasis(BaseModel):
    """Statute and section that allow the disclosure."""

    model_config = _CONTRACT_CONFIG

    statute: str = Field(min_length=1)
    section: str = Field(min_length=1)
    text: str = Field(min_length=1)
    confirmed: bool = False


class Receipt(BaseModel):
    """One kind of event a partner receives."""

    model_config = _CONTRACT_CONFIG

    family: str
    topic: str
    format: str
    when: Condition
    fields: tuple[str, ...] = Field(min_length=1)
    legal_basis: LegalBasis


class Contract(BaseModel):
    """Everything one partner receives."""

    model_config = _CONTRACT_CONFIG

    partner: Partner
    name: str = Field(min_length=1)
    receives: tuple[Receipt, ...] = ()


@dataclass(frozen=True, slots=True)
class Disclosure:
    """One recipient of one event, under one receipt of its contract."""

    partner: Partner
    receipt: Receipt


@dataclass(frozen=True)
class ContractBook:
    """All contracts and the municipality table, validated."""

    contracts: Mapping[Partner, Contract]
    municipalities: Mapping[str, Authority]

    def families(self) -> frozenset[str]:
        """Every family at least one partner receives."""
        return frozenset(r.family for c in self.contracts.values() for r in c.receives)

    def disclosures_for(self, family: str, data: Mapping[str, Any]) -> list[Disclosure]:
        """The recipients of an event of ``family`` with canonical ``data`` (JSON mode)."""
        found = []
        for partner, contract in self.contracts.items():
            for receipt in contract.receives:
                if receipt.family == family and self._holds(receipt.when, partner, data):
                    found.append(Disclosure(partner, receipt))
        return found

    def _holds(self, condition: Condition, partner: Partner, data: Mapping[str, Any]) -> bool:
        match condition:
            case Condition.ALWAYS:
                return True
            case Condition.HOME_MUNICIPALITY_IN_AREA:
                authority = self.municipalities.get(str(data.get("home_municipality")))
                return authority is not None and authority.value == partner.value


def project(event: Mapping[str, Any], receipt: Receipt) -> dict[str, Any]:
    """The event as ``receipt`` allows it: envelope attributes and the listed data fields."""
    data = event.get("data") or {}
    return {
        **{name: event[name] for name in ENVELOPE_ATTRIBUTES if name in event},
        "data": {name: data[name] for name in receipt.fields if name in data},
    }


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: not valid YAML: {exc}") from None


def load_municipalities(path: Path = MUNICIPALITIES_FILE) -> dict[str, Authority]:
    """The municipality → authority table; errors name the file and the entry."""
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path}: must map municipality codes to authorities")
    table: dict[str, Authority] = {}
    for code, authority in raw.items():
        code_text = str(code)
        if not (len(code_text) == 3 and code_text.isascii() and code_text.isdigit()):
            raise ConfigurationError(
                f"{path}: {code!r}: municipality codes are 3 digits in quotes, e.g. '098'"
            )
        try:
            table[code_text] = Authority(authority)
        except ValueError:
            raise ConfigurationError(
                f"{path}: {code_text}: {authority!r} is not an authority (lahti or ph)"
            ) from None
    return table


def _where(path: Path, error: ValidationError) -> str:
    first = error.errors(include_input=False, include_url=False)[0]
    location = ".".join(str(part) for part in first["loc"])
    return f"{path}: {location}: {first['msg']}"


def _check_receipt(
    path: Path, partner: Partner, index: int, receipt: Receipt, formats: Iterable[str]
) -> None:
    where = f"{path}: receives[{index}]"
    known = FAMILY_DATA_FIELDS.get(receipt.family)
    if known is None:
        raise ConfigurationError(
            f"{where}.family: {receipt.family!r} is not a canonical family "
            f"({', '.join(sorted(FAMILY_DATA_FIELDS))})"
        )
    for position, name in enumerate(receipt.fields):
        if name not in known:
            raise ConfigurationError(
                f"{where}.fields[{position}]: {name!r} is not a field of {receipt.family}"
            )
    expected_topic = f"out.{partner.value}.{receipt.family}"
    if receipt.topic != expected_topic or receipt.topic not in {t.name for t in TOPICS}:
        raise ConfigurationError(
            f"{where}.topic: {receipt.topic!r} must be {expected_topic!r}, a provisioned topic"
        )
    if receipt.format not in set(formats):
        raise ConfigurationError(
            f"{where}.format: {receipt.format!r} has no renderer "
            f"(known: {', '.join(sorted(formats))})"
        )
    if receipt.when is Condition.HOME_MUNICIPALITY_IN_AREA and (
        "home_municipality" not in known or partner.value not in {a.value for a in Authority}
    ):
        raise ConfigurationError(
            f"{where}.when: home-municipality-in-area needs an authority as partner and a "
            "family with home_municipality"
        )


def load_contract(path: Path, formats: Iterable[str]) -> Contract:
    """One contract file, validated; errors name the file and the field."""
    try:
        contract = Contract.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise ConfigurationError(_where(path, exc)) from None
    if path.stem != contract.partner.value:
        raise ConfigurationError(
            f"{path}: partner: {contract.partner.value!r} in a file named {path.name}"
        )
    formats = tuple(formats)
    for index, receipt in enumerate(contract.receives):
        _check_receipt(path, contract.partner, index, receipt, formats)
    return contract


def load_contract_book(
    formats: Iterable[str],
    directory: Path = CONTRACT_DIR,
    municipalities_file: Path = MUNICIPALITIES_FILE,
) -> ContractBook:
    """Every ``<partner>.yaml`` in ``directory`` and the municipality table, validated."""
    formats = tuple(formats)
    contracts: dict[Partner, Contract] = {}
    partner_names = {p.value for p in Partner}
    for path in sorted(directory.glob("*.yaml")):
        if path.stem in partner_names:
            contract = load_contract(path, formats)
            contracts[contract.partner] = contract
    return ContractBook(contracts, load_municipalities(municipalities_file))
