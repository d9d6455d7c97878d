"""Data contracts: who receives which canonical events, which fields, on what legal basis.

Loaded from ``contracts/<partner>.yaml`` and the municipality table at start-up and validated
against the canonical models, the topic catalogue and the registered renderers; a broken
contract stops start-up with a message naming the file and the field.

``disclosures_for`` decides the recipients of one event; ``project`` removes every field the
recipient's contract does not list. Every outbound path goes through both (see
``hub.distribution``): there is no other way from a canonical topic to a partner topic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from contracts import CONTRACT_DIR, MUNICIPALITIES_FILE
from hub.core.errors import ConfigurationError
from hub.core.topics import TOPICS, canonical_topic, outbound_topic, partner_of
from schemas.catalogue import DOCUMENT_TYPES, EVENT_TYPES
from schemas.codes import Authority, Partner

__all__ = [
    "ENVELOPE_ATTRIBUTES",
    "FAMILY_DATA_FIELDS",
    "AggregateReceipt",
    "Condition",
    "Contract",
    "ContractBook",
    "Disclosure",
    "LegalBasis",
    "Receipt",
    "Relationships",
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

    #: Every event of the family.
    ALWAYS = "always"
    #: The person's home municipality is in the partner's (an authority's) area.
    HOME_MUNICIPALITY_IN_AREA = "home-municipality-in-area"
    #: As above, and the event comes from the other authority (not back to its author).
    IN_AREA_FROM_OTHER_AUTHORITY = "in-area-from-other-authority"
    #: The event moved the person out of the partner's area (by the other authority's record).
    MOVED_OUT_OF_AREA = "moved-out-of-area"
    #: The event is addressed to the partner (``recipient``).
    ADDRESSED_TO_PARTNER = "addressed-to-partner"
    #: The partner sent the referral the event is about (``referral_sender``).
    REFERRAL_SENT_BY_PARTNER = "referral-sent-by-partner"
    #: The person has an open referral with the partner (the referral register says so).
    OPEN_REFERRAL_WITH_PARTNER = "open-referral-with-partner"


#: What each condition reads from ``data``, and whether the partner must be an authority.
_CONDITION_NEEDS: Final[dict[Condition, tuple[frozenset[str], bool]]] = {
    Condition.ALWAYS: (frozenset(), False),
    Condition.HOME_MUNICIPALITY_IN_AREA: (frozenset({"home_municipality"}), True),
    Condition.IN_AREA_FROM_OTHER_AUTHORITY: (
        frozenset({"home_municipality", "authority"}),
        True,
    ),
    Condition.MOVED_OUT_OF_AREA: (
        frozenset({"home_municipality", "previous_home_municipality", "authority"}),
        True,
    ),
    Condition.ADDRESSED_TO_PARTNER: (frozenset({"recipient"}), False),
    Condition.REFERRAL_SENT_BY_PARTNER: (frozenset({"referral_sender"}), True),
    Condition.OPEN_REFERRAL_WITH_PARTNER: (frozenset(), False),
}


class Relationships(Protocol):
    """What the contracts may ask about a person's relationships (the referral register)."""

    def has_open_referral(self, person_ref: str, recipient: str, at: dt.datetime) -> bool:
        """True if the person had an open referral with ``recipient`` at the time ``at``."""
        ...  # pragma: no cover


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
    #: The major version of the canonical family the partner receives (``hub.<family>.v<N>``):
    #: one per family, so nobody gets a record twice while two versions run side by side.
    version: int = Field(default=1, ge=1)
    topic: str
    format: str
    when: Condition
    fields: tuple[str, ...] = Field(min_length=1)
    legal_basis: LegalBasis
    #: Set on a reduced disclosure (e.g. ``moved-out``): rendered as the CloudEvents extension
    #: attribute ``hubnotice`` so the recipient can tell it from a full event.
    notice: str | None = Field(default=None, pattern=r"^[a-z][a-z-]{0,30}$")


class AggregateReceipt(BaseModel):
    """A document of aggregated figures a partner receives: about no person, so it has no
    fields to project; what it holds is its schema (``document``, a published type)."""

    model_config = _CONTRACT_CONFIG

    document: str
    topic: str
    format: str
    contents: str = Field(min_length=1)
    legal_basis: LegalBasis


class Contract(BaseModel):
    """Everything one partner receives."""

    model_config = _CONTRACT_CONFIG

    partner: Partner
    name: str = Field(min_length=1)
    receives: tuple[Receipt, ...] = ()
    aggregates: tuple[AggregateReceipt, ...] = ()


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
    #: (family, version or None) → every partner's receipt of it, in contract order: looked
    #: up once per family and version rather than searched for each event.
    _candidates: dict[tuple[str, int | None], tuple[Disclosure, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def families(self) -> frozenset[str]:
        """Every family at least one partner receives."""
        return frozenset(r.family for c in self.contracts.values() for r in c.receives)

    def sources(self) -> frozenset[tuple[str, int]]:
        """Every (family, major version) at least one partner receives."""
        return frozenset((r.family, r.version) for c in self.contracts.values() for r in c.receives)

    def disclosures_for(
        self,
        family: str,
        data: Mapping[str, Any],
        subject: str | None = None,
        relationships: Relationships | None = None,
        time: dt.datetime | None = None,
        version: int | None = None,
    ) -> list[Disclosure]:
        """The recipients of an event of ``family`` with canonical ``data`` (JSON mode), on
        the topic of major ``version`` (``None``: whichever version each partner receives).

        ``subject``, ``time`` (the event's) and ``relationships`` answer
        ``open-referral-with-partner``; without them that condition never holds.
        """
        candidates = self._candidates.get((family, version))
        if candidates is None:
            candidates = tuple(
                Disclosure(partner, receipt)
                for partner, contract in self.contracts.items()
                for receipt in contract.receives
                if receipt.family == family and version in {None, receipt.version}
            )
            self._candidates[(family, version)] = candidates
        context = (subject, time, relationships)
        return [
            candidate
            for candidate in candidates
            if self._holds(candidate.receipt.when, candidate.partner.value, data, context)
        ]

    def _area(self, municipality: object) -> str | None:
        authority = self.municipalities.get(str(municipality))
        return None if authority is None else authority.value

    def _holds(  # noqa: PLR0911 - one return per condition reads best.
        self,
        condition: Condition,
        partner: str,
        data: Mapping[str, Any],
        context: tuple[str | None, dt.datetime | None, Relationships | None],
    ) -> bool:
        match condition:
            case Condition.ALWAYS:
                return True
            case Condition.HOME_MUNICIPALITY_IN_AREA:
                return self._area(data.get("home_municipality")) == partner
            case Condition.IN_AREA_FROM_OTHER_AUTHORITY:
                return (
                    self._area(data.get("home_municipality")) == partner
                    and data.get("authority") != partner
                )
            case Condition.MOVED_OUT_OF_AREA:
                previous = data.get("previous_home_municipality")
                return (
                    previous is not None
                    and self._area(previous) == partner
                    and self._area(data.get("home_municipality")) != partner
                    and data.get("authority") != partner
                )
            case Condition.ADDRESSED_TO_PARTNER:
                return data.get("recipient") == partner
            case Condition.REFERRAL_SENT_BY_PARTNER:
                return data.get("referral_sender") == partner
            case Condition.OPEN_REFERRAL_WITH_PARTNER:
                subject, time, relationships = context
                return (
                    subject is not None
                    and time is not None
                    and relationships is not None
                    and relationships.has_open_referral(subject, partner, time)
                )


def project(event: Mapping[str, Any], receipt: Receipt) -> dict[str, Any]:
    """The event as ``receipt`` allows it: envelope attributes and the listed data fields."""
    data = event.get("data") or {}
    projected = {name: event[name] for name in ENVELOPE_ATTRIBUTES if name in event}
    if receipt.notice is not None:
        projected["hubnotice"] = receipt.notice
    projected["data"] = {name: data[name] for name in receipt.fields if name in data}
    return projected


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
    canonical = canonical_topic(receipt.family, receipt.version)
    if canonical not in {t.name for t in TOPICS}:
        raise ConfigurationError(
            f"{where}.version: {receipt.version} has no canonical topic {canonical!r}"
        )
    expected_topic = outbound_topic(partner.value, receipt.family)
    if receipt.topic != expected_topic or receipt.topic not in {t.name for t in TOPICS}:
        raise ConfigurationError(
            f"{where}.topic: {receipt.topic!r} must be {expected_topic!r}, a provisioned topic"
        )
    if receipt.format not in set(formats):
        raise ConfigurationError(
            f"{where}.format: {receipt.format!r} has no renderer "
            f"(known: {', '.join(sorted(formats))})"
        )
    reads, authority_only = _CONDITION_NEEDS[receipt.when]
    if not reads <= known or (authority_only and partner.value not in {a.value for a in Authority}):
        needs = f"a family with {', '.join(sorted(reads))}" if reads else "nothing more"
        partner_need = "an authority as partner and " if authority_only else ""
        raise ConfigurationError(f"{where}.when: {receipt.when.value} needs {partner_need}{needs}")


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
    versions: dict[str, int] = {}
    for index, receipt in enumerate(contract.receives):
        _check_receipt(path, contract.partner, index, receipt, formats)
        named = versions.setdefault(receipt.family, receipt.version)
        if named != receipt.version:
            # Receipts of two versions of one family would deliver a record twice.
            raise ConfigurationError(
                f"{path}: receives[{index}].version: {receipt.family} is received as "
                f"version {named} already; a contract names one version of a family"
            )
    for index, aggregate in enumerate(contract.aggregates):
        _check_aggregate(path, contract.partner, index, aggregate, formats)
    return contract


def _check_aggregate(
    path: Path, partner: Partner, index: int, aggregate: AggregateReceipt, formats: Iterable[str]
) -> None:
    where = f"{path}: aggregates[{index}]"
    if aggregate.document not in DOCUMENT_TYPES:
        raise ConfigurationError(
            f"{where}.document: {aggregate.document!r} is not a published document type "
            f"({', '.join(sorted(DOCUMENT_TYPES))})"
        )
    if partner_of(aggregate.topic) != partner.value or aggregate.topic not in {
        t.name for t in TOPICS
    }:
        raise ConfigurationError(
            f"{where}.topic: {aggregate.topic!r} must be a provisioned out.{partner.value}.* topic"
        )
    if aggregate.format not in set(formats):
        raise ConfigurationError(
            f"{where}.format: {aggregate.format!r} has no renderer "
            f"(known: {', '.join(sorted(formats))})"
        )


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
