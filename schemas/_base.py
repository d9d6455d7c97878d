"""The base every canonical model shares."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CanonicalModel", "MunicipalityCode"]


class CanonicalModel(BaseModel):
    """Frozen, closed, and never echoing input values in validation errors.

    ``hide_input_in_errors`` matters: a pydantic error message would otherwise quote the
    offending value, which may be an identity code, into logs and dead-letter details.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        use_enum_values=False,
        ser_json_timedelta="iso8601",
    )


MunicipalityCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{3}$",
        description="Statistics Finland 3-digit municipality code (kuntanumero), e.g. 398 Lahti.",
    ),
]
