"""What a partner receives, field by field, with the legal basis: for data-protection officers.

Built from the same contract book the runtime enforces, and the field descriptions of the
canonical models, so the report cannot drift from what the hub actually does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hub.core.topics import canonical_topic
from hub.distribution.contracts import AggregateReceipt, Condition, ContractBook
from schemas.catalogue import EVENT_TYPES
from schemas.codes import Partner

__all__ = [
    "CONDITION_TEXT",
    "ReceiptReport",
    "aggregates_of",
    "contract_markdown",
    "contract_report",
]

#: Each condition in plain words.
CONDITION_TEXT: Final[dict[Condition, str]] = {
    Condition.ALWAYS: "every event",
    Condition.HOME_MUNICIPALITY_IN_AREA: "only persons whose home municipality is in the "
    "partner's area",
    Condition.IN_AREA_FROM_OTHER_AUTHORITY: "only persons living in the partner's area, as "
    "recorded by the other authority",
    Condition.MOVED_OUT_OF_AREA: "only when the person moved out of the partner's area "
    "(a minimal moved-out notice)",
    Condition.ADDRESSED_TO_PARTNER: "only events addressed to the partner",
    Condition.REFERRAL_SENT_BY_PARTNER: "only about referrals the partner sent",
    Condition.OPEN_REFERRAL_WITH_PARTNER: "only persons with an open referral or "
    "multisector-support relationship with the partner",
}


def _versions(family: str) -> int:
    return sum(1 for event_type in EVENT_TYPES if event_type.split(".")[-2] == family)


def _descriptions(family: str) -> dict[str, str]:
    for event_type, model in EVENT_TYPES.items():
        if event_type.split(".")[-2] == family:
            data_model = model.model_fields["data"].annotation
            fields = data_model.model_fields  # type: ignore[union-attr]
            return {name: (field.description or "") for name, field in fields.items()}
    return {}


@dataclass(frozen=True, slots=True)
class ReceiptReport:
    """One kind of disclosure, ready to print."""

    family: str
    topic: str
    format: str
    #: The canonical topic (so the major version) the disclosures are taken from.
    source: str
    condition: str
    notice: str | None
    fields: tuple[tuple[str, str], ...]
    withheld: tuple[str, ...]
    statute: str
    section: str
    basis: str
    confirmed: bool


def contract_report(book: ContractBook, partner: Partner) -> tuple[str, list[ReceiptReport]]:
    """The partner's name and every disclosure it receives (empty when it has no contract)."""
    contract = book.contracts.get(partner)
    if contract is None:
        return partner.value, []
    reports = []
    for receipt in contract.receives:
        descriptions = _descriptions(receipt.family)
        reports.append(
            ReceiptReport(
                family=receipt.family,
                topic=receipt.topic,
                format=receipt.format,
                source=canonical_topic(receipt.family, receipt.version),
                condition=CONDITION_TEXT[receipt.when],
                notice=receipt.notice,
                fields=tuple((name, descriptions.get(name, "")) for name in receipt.fields),
                withheld=tuple(sorted(set(descriptions) - set(receipt.fields))),
                statute=receipt.legal_basis.statute,
                section=receipt.legal_basis.section,
                basis=receipt.legal_basis.text,
                confirmed=receipt.legal_basis.confirmed,
            )
        )
    return contract.name, reports


def aggregates_of(book: ContractBook, partner: Partner) -> tuple[AggregateReceipt, ...]:
    """The documents of aggregated figures (about no person) the partner receives."""
    contract = book.contracts.get(partner)
    return () if contract is None else contract.aggregates


def _aggregate_markdown(aggregate: AggregateReceipt) -> list[str]:
    basis = aggregate.legal_basis
    confirmed = "" if basis.confirmed else " (awaiting confirmation)"
    return [
        f"## Aggregated figures on `{aggregate.topic}`",
        "",
        f"- Document: `{aggregate.document}` (format `{aggregate.format}`)",
        f"- Contents: {aggregate.contents}",
        f"- Legal basis{confirmed}: {basis.statute}, {basis.section}. {basis.text}",
        "",
        "No field about a person is sent: no identity code, no pseudonymous reference, no "
        "record or referral id.",
        "",
    ]


def contract_markdown(book: ContractBook, partner: Partner) -> str:
    """The report as Markdown, for documentation."""
    name, reports = contract_report(book, partner)
    aggregates = aggregates_of(book, partner)
    lines = [f"# What {partner.value} receives", "", name, ""]
    if not reports and not aggregates:
        lines.append("Nothing: there is no contract for this partner.")
    for aggregate in aggregates:
        lines += _aggregate_markdown(aggregate)
    for report in reports:
        lines += [
            f"## {report.family} on `{report.topic}`",
            "",
            f"- Format: `{report.format}`",
            f"- When: {report.condition}",
        ]
        if _versions(report.family) > 1:
            # Only where two major versions run side by side is the choice worth a line.
            lines.append(f"- From: `{report.source}` (the major version this contract names)")
        if report.notice:
            lines.append(f"- Marked as notice: `hubnotice: {report.notice}`")
        confirmed = "" if report.confirmed else " (awaiting confirmation)"
        lines += [
            f"- Legal basis{confirmed}: {report.statute}, {report.section}. {report.basis}",
            "",
            "| field | meaning |",
            "|---|---|",
            *(f"| `{field}` | {meaning} |" for field, meaning in report.fields),
            "",
            "Never sent: " + ", ".join(f"`{f}`" for f in report.withheld) + "."
            if report.withheld
            else "Every field of the event is sent.",
            "",
        ]
    return "\n".join(lines)
