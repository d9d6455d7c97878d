"""Monthly statements: share lines summed per municipality, month, invoice, model and step.

Pure aggregation and rendering (CSV, JSON); the terminal table is drawn by the CLI. Persons
are counted by pseudonymous reference; identity codes appear only in a ``--reveal`` detail,
which the CLI records as a disclosure before it prints anything.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import orjson

from hub.share.rules import ShareRules
from hub.share.split import InvoiceGroup, Model, ShareLine

__all__ = [
    "DETAIL_COLUMNS",
    "STATEMENT_COLUMNS",
    "StatementRow",
    "render_csv",
    "render_json",
    "rules_header",
    "statement_rows",
]

STATEMENT_COLUMNS: Final = (
    "municipality",
    "month",
    "invoice",
    "model",
    "percent",
    "persons",
    "days",
    "euros_paid",
    "municipal_share",
)
DETAIL_COLUMNS: Final = (
    "municipality",
    "month",
    "invoice",
    "model",
    "percent",
    "record_id",
    "person",
    "benefit",
    "days",
    "euros_paid",
    "municipal_share",
)


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One statement line: ``euros_paid`` are the shared euros of the days (for APR the basic
    part, capped), ``share`` the municipality's part of them."""

    municipality: str
    month: str
    invoice: InvoiceGroup
    model: Model
    percent: int
    persons: int
    days: int
    euros_paid: Decimal
    share: Decimal

    def cells(self) -> tuple[str, ...]:
        """The row as text, in ``STATEMENT_COLUMNS`` order (euros with a decimal point)."""
        return (
            self.municipality,
            self.month,
            self.invoice.value,
            self.model.value,
            str(self.percent),
            str(self.persons),
            str(self.days),
            str(self.euros_paid),
            str(self.share),
        )


def statement_rows(lines: Iterable[ShareLine]) -> list[StatementRow]:
    """The lines summed per municipality, month, invoice, model and percentage, sorted."""
    sums: dict[tuple[str, str, InvoiceGroup, Model, int], tuple[set[str], int, Decimal, Decimal]]
    sums = {}
    for line in lines:
        key = (line.municipality, line.month, line.invoice, line.model, line.percent)
        persons, days, euros, share = sums.get(key, (set(), 0, Decimal(0), Decimal(0)))
        persons.add(line.person_ref)
        sums[key] = (persons, days + line.days, euros + line.shared_euros, share + line.share)
    return [
        StatementRow(*key, len(persons), days, euros, share)
        for key, (persons, days, euros, share) in sorted(sums.items())
    ]


def rules_header(rules: ShareRules) -> str:
    """The rules a report used, printed with every report."""
    confirmed = "confirmed" if rules.confirmed_by_finance else "NOT yet confirmed"
    return (
        f"step table {rules.version} ({confirmed} by the finance unit), basic daily amount "
        f"table {rules.basic_amounts.version}"
    )


def render_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV with a header line (``,``, decimal point: for spreadsheets and finance systems)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render_json(rules: ShareRules, header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A JSON object: the rules' versions and the rows as objects (euros as strings)."""
    return orjson.dumps(
        {
            "step_table_version": rules.version,
            "basic_daily_amount_version": rules.basic_amounts.version,
            "confirmed_by_finance": rules.confirmed_by_finance,
            "rows": [dict(zip(header, row, strict=True)) for row in rows],
        },
        option=orjson.OPT_INDENT_2,
    ).decode()
