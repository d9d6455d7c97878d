"""``hub referrals show REFERRAL_ID``: a referral's history, for support staff.

The register holds no identity codes; the person appears as their pseudonymous reference.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli._common import out, start_command
from hub.errors import HubError
from hub.referrals import ReferralRegister

__all__ = ["referrals_app"]

referrals_app = typer.Typer(help="Referrals the hub carried.", no_args_is_help=True)


class UnknownReferralError(HubError):
    """The register has no referral with that id."""


@referrals_app.command("show")
def show(
    referral_id: Annotated[str, typer.Argument(help="The referral id (lahete_id).")],
) -> None:
    """Where a referral stands and every state it went through."""
    settings = start_command()
    if not ReferralRegister.exists(settings.data_dir):
        raise UnknownReferralError(f"no referral register in {settings.data_dir}")
    register = ReferralRegister.open(settings.data_dir)
    try:
        record = register.referral(referral_id)
        if record is None:
            raise UnknownReferralError(
                f"no referral {referral_id} in {settings.data_dir} (the hub never carried it)"
            )
        history = register.history(referral_id)
    finally:
        register.close()
    out.print(f"referral {record.referral_id}", markup=False)
    out.print(f"  person     {record.person_ref}", markup=False)
    out.print(f"  from       {record.sender}", markup=False)
    out.print(f"  to         {record.recipient}", markup=False)
    out.print(f"  service    {record.service}", markup=False)
    out.print(f"  state      {record.state}", markup=False)
    out.print("  history")
    for entry in history:
        out.print(f"    {entry.at}  {entry.state}  (recorded {entry.recorded_at})", markup=False)
