"""Referral status updates out: a projected canonical referral-status event → the authority's JSON.

The hub projects each canonical referral-status event through the sending authority's
contract and hands the result (envelope attributes and ``data``, pydantic JSON mode) to
:func:`render_referral_status`, which returns exactly the document of
``docs/partners/authorities.md`` for ``out.<authority>.referral-status``::

    {"lahete_id": "L-2025-000871", "tila": "HYVAKSYTTY", "syy": null,
     "aika": "2025-03-20T09:30:00+02:00"}

Decisions the document leaves open:

- the keys are written in the document's order, compactly (orjson), without a newline;
- ``syy`` is ``null`` when there is no reason (``None`` or an empty string);
- ``aika`` is ``at`` in ISO 8601 with its original offset, to whole seconds like the
  partner's own timestamps (microseconds are truncated, never rounded); UTC is ``+00:00``.
  Offsets must be whole minutes (``±HH:MM`` cannot carry seconds).

This module must never:

- put anything into the document beyond its four keys: the input model forbids unknown
  ``data`` fields, so a projection that leaked one (a referral reason, a person id) makes
  rendering fail instead of reaching the partner;
- render an event of another type: a ``type`` other than referral-status is refused;
- echo its input in errors (validation errors hide input values);
- import the broker, the runtime or the audit store: it is a pure function of its argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated

import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from connectors.authorities.native import REFERRAL_ID_MAX_LENGTH, REFERRAL_STATES
from schemas.codes import ReferralState
from schemas.referral_status import REFERRAL_STATUS_V1

__all__ = ["ReferralStatusFields", "WrongEventTypeError", "render_referral_status"]


class WrongEventTypeError(ValueError):
    """The projected event is not a referral-status event."""


def _whole_minute_offset(value: dt.datetime) -> dt.datetime:
    offset = value.utcoffset()
    if offset is None:  # AwareDatetime has already refused naive times; kept for mypy.
        raise ValueError("at must carry a time-zone offset")
    if offset % dt.timedelta(minutes=1):
        raise ValueError("at's offset must be whole minutes")
    return value


class ReferralStatusFields(BaseModel):
    """The ``data`` of a projected referral-status event that the authorities receive.

    ``extra="forbid"`` is defence in depth: a field the projection should have dropped makes
    validation fail rather than reach the authority.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    referral_id: str = Field(
        min_length=1, max_length=REFERRAL_ID_MAX_LENGTH, description="Referral id (lahete_id)."
    )
    state: ReferralState = Field(description="The referral's new state (tila).")
    reason: str | None = Field(default=None, description="Optional reason (syy).")
    at: Annotated[AwareDatetime, AfterValidator(_whole_minute_offset)] = Field(
        description="When the state changed (aika)."
    )


def render_referral_status(projected: Mapping[str, object]) -> bytes:
    """The authority's referral-status JSON for one projected canonical event, as UTF-8.

    A ``data`` field outside the model, or a value that does not fit, raises
    ``pydantic.ValidationError`` (a bug upstream, with input values hidden); an event of
    another type raises ``WrongEventTypeError``. The output is deterministic.
    """
    event_type = projected.get("type", REFERRAL_STATUS_V1)
    if event_type != REFERRAL_STATUS_V1:
        raise WrongEventTypeError(f"expected a {REFERRAL_STATUS_V1} event")
    fields = ReferralStatusFields.model_validate(projected.get("data"))
    return orjson.dumps(
        {
            "lahete_id": fields.referral_id,
            "tila": REFERRAL_STATES[fields.state],
            "syy": fields.reason or None,
            "aika": fields.at.isoformat(timespec="seconds"),
        }
    )
