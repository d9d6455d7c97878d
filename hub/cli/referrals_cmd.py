"""``hub referrals show REFERRAL_ID [--from SENDER]``: a referral's history, for support staff.

A referral is named by its sender and its id: both authorities may use the same ``lahete_id``,
so without ``--from`` every referral with that id is shown, each under its sender.
The register holds no identity codes; the person appears as their pseudonymous reference.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli._common import out, start_command
from hub.core.errors import HubError
from hub.referrals.register import HistoryEntry, ReferralRecord, ReferralRegister
from schemas.codes import Authority

__all__ = ["referrals_app"]

referrals_app = typer.Typer(help="Referrals the hub carried.", no_args_is_help=True)


class UnknownReferralError(HubError):
    """The register has no referral with that id (from that sender)."""


def _print(record: ReferralRecord, history: list[HistoryEntry]) -> None:
    out.print(f"referral {record.referral_id}", markup=False)
    out.print(f"  person     {record.person_ref}", markup=False)
    out.print(f"  from       {record.sender}", markup=False)
    out.print(f"  to         {record.recipient}", markup=False)
    out.print(f"  service    {record.service}", markup=False)
    out.print(f"  state      {record.state}", markup=False)
    out.print("  history")
    for entry in history:
        out.print(f"    {entry.at}  {entry.state}  (recorded {entry.recorded_at})", markup=False)


@referrals_app.command("show")
def show(
    referral_id: Annotated[str, typer.Argument(help="The referral id (lahete_id).")],
    sender: Annotated[
        Authority | None,
        typer.Option("--from", help="Only the referral this authority sent."),
    ] = None,
) -> None:
    """Where a referral stands and every state it went through."""
    settings = start_command()
    if not ReferralRegister.exists(settings.data_dir):
        raise UnknownReferralError(f"no referral register in {settings.data_dir}")
    register = ReferralRegister.open(settings.data_dir)
    try:
        records = [
            record
            for record in register.named(referral_id)
            if sender is None or record.sender == sender.value
        ]
        if not records:
            whose = "" if sender is None else f" from {sender.value}"
            raise UnknownReferralError(
                f"no referral {referral_id}{whose} in {settings.data_dir} "
                "(the hub never carried it)"
            )
        found = [(record, register.history(record.key)) for record in records]
    finally:
        register.close()
    for position, (record, history) in enumerate(found):
        if position:
            out.print("")
        _print(record, history)
