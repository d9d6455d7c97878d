"""``hub acls generate [--format text|json] [--apply]``."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from hub.admin.acls import (
    DEFAULT_HUB_PRINCIPAL,
    DEFAULT_PARTNER_PRINCIPAL,
    AclBinding,
    Principals,
    acl_bindings,
)
from hub.cli._common import err, run, start_command

__all__ = ["acls_app", "acls_text"]

acls_app = typer.Typer(help="Kafka ACLs derived from the contracts.", no_args_is_help=True)


class AclFormat(StrEnum):
    """How ``hub acls generate`` prints."""

    TEXT = "text"
    JSON = "json"


_COLUMNS = ("principal", "permission", "operation", "resource_type", "pattern_type")


def acls_text(bindings: tuple[AclBinding, ...]) -> str:
    """One binding per line in aligned columns, a blank line between principals."""
    rows = [binding.as_dict() for binding in bindings]
    widths = {name: max((len(row[name]) for row in rows), default=0) for name in _COLUMNS}
    lines: list[str] = []
    for index, row in enumerate(rows):
        if index and row["principal"] != rows[index - 1]["principal"]:
            lines.append("")
        cells = [row[name].ljust(widths[name]) for name in _COLUMNS]
        lines.append("  ".join([*cells, row["resource_name"]]))
    return "\n".join(lines)


@acls_app.command("generate")
def generate(
    output: Annotated[
        AclFormat, typer.Option("--format", help="text (people) or json (tools).")
    ] = AclFormat.TEXT,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply", help="Also create the ACLs on HUB_KAFKA_BOOTSTRAP (needs a super user)."
        ),
    ] = False,
    hub_principal: Annotated[
        str, typer.Option(help="Principal the hub connects as.")
    ] = DEFAULT_HUB_PRINCIPAL,
    partner_principal: Annotated[
        str, typer.Option(help="Principal of each partner; {partner} is its name.")
    ] = DEFAULT_PARTNER_PRINCIPAL,
) -> None:
    """The ACLs every partner and the hub need, from the contract files and the topic catalogue.

    Partners may write their own in.* topics, read the out.* topics their contract lists and use
    consumer groups starting with '<partner>.'; nothing else.
    """
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.
    from hub.app.runtime import contract_book_for  # noqa: PLC0415 - the same.

    settings = start_command()
    principals = Principals(hub=hub_principal, partner_template=partner_principal)
    bindings = acl_bindings(contract_book_for(settings, CONNECTORS), principals=principals)
    if output is AclFormat.JSON:
        typer.echo(json.dumps([binding.as_dict() for binding in bindings], indent=2))
    else:
        typer.echo(acls_text(bindings))
    if apply:
        from hub.admin.acl_apply import apply_acls  # noqa: PLC0415 - only --apply needs aiokafka.
        from hub.broker.connection import connection_for  # noqa: PLC0415 - the same.

        connection = connection_for(settings)
        sent = run(apply_acls(connection, bindings))
        err.print(f"{sent} ACL bindings applied to {connection.bootstrap}", markup=False)
