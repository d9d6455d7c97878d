"""``hub contracts show PARTNER [--format table|markdown]``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from hub.cli._common import out, start_command
from hub.core.errors import ConfigurationError
from schemas.codes import Partner

__all__ = ["UnknownPartnerError", "contracts_app"]

contracts_app = typer.Typer(help="The partners' data contracts.", no_args_is_help=True)


class UnknownPartnerError(ConfigurationError):
    """``hub contracts show`` was given a name that is no partner (a usage error, exit 2)."""

    def __init__(self, name: str) -> None:
        known = ", ".join(partner.value for partner in Partner)
        super().__init__(f"unknown partner {name!r}: expected one of {known}")


def _partner(name: str) -> Partner:
    # Not an enum-typed argument: click would answer with a boxed "Value error, ..." from
    # inside its validator instead of one line.
    try:
        return Partner(name)
    except ValueError:
        raise UnknownPartnerError(name) from None


class ReportFormat(StrEnum):
    """How ``hub contracts show`` prints."""

    TABLE = "table"
    MARKDOWN = "markdown"


@contracts_app.command("show")
def show(
    partner_name: Annotated[
        str, typer.Argument(metavar="PARTNER", help="lahti, ph, kela, sote or keha.")
    ],
    output: Annotated[
        ReportFormat, typer.Option("--format", help="table (terminal) or markdown (docs).")
    ] = ReportFormat.TABLE,
) -> None:
    """What PARTNER receives, field by field, with the legal basis of each disclosure."""
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.
    from hub.app.runtime import contract_book_for  # noqa: PLC0415 - heavy.
    from hub.distribution.contract_report import (  # noqa: PLC0415 - heavy.
        aggregates_of,
        contract_markdown,
        contract_report,
    )

    partner = _partner(partner_name)
    settings = start_command()
    book = contract_book_for(settings, CONNECTORS)
    if output is ReportFormat.MARKDOWN:
        typer.echo(contract_markdown(book, partner))
        return
    name, reports = contract_report(book, partner)
    out.print(f"[bold]{partner.value}[/]: {name}")
    aggregates = aggregates_of(book, partner)
    if not reports and not aggregates:
        out.print("receives nothing: there is no contract for this partner")
    for aggregate in aggregates:
        out.print(f"aggregated figures → {aggregate.topic} ({aggregate.document})", markup=False)
        out.print(f"  {aggregate.contents}", markup=False)
        basis = aggregate.legal_basis
        confirmed = "" if basis.confirmed else " [yellow](awaiting confirmation)[/]"
        out.print(f"  legal basis{confirmed}: {basis.statute}, {basis.section}")
        out.print(f"  {basis.text}", markup=False)
    for report in reports:
        title = f"{report.family} → {report.topic} ({report.format}), {report.condition}"
        table = Table("field", "meaning", title=title, title_justify="left")
        for field, meaning in report.fields:
            table.add_row(field, meaning)
        out.print(table)
        confirmed = "" if report.confirmed else " [yellow](awaiting confirmation)[/]"
        out.print(f"  legal basis{confirmed}: {report.statute}, {report.section}")
        out.print(f"  {report.basis}", markup=False)
        if report.withheld:
            out.print(f"  never sent: {', '.join(report.withheld)}", markup=False)
