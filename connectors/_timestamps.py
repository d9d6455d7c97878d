"""Time-zone offsets partners can carry: whole minutes, within ±14:00.

No time zone is further than 14 hours from UTC, and it is where ``xs:dateTime`` (Kela) and
FHIR ``dateTime`` (Päijät-Sote) stop; pydantic alone would accept up to ±23:59.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final

from pydantic import AfterValidator, AwareDatetime

__all__ = ["MAX_OFFSET", "RealOffsetDatetime", "has_real_offset"]

MAX_OFFSET: Final = dt.timedelta(hours=14)


def has_real_offset(value: dt.datetime) -> bool:
    """True if ``value`` has an offset of whole minutes within ±14:00."""
    offset = value.utcoffset()
    return offset is not None and not offset % dt.timedelta(minutes=1) and abs(offset) <= MAX_OFFSET


def _real_offset(value: dt.datetime) -> dt.datetime:
    if not has_real_offset(value):
        raise ValueError("the offset must be whole minutes within ±14:00")
    return value


#: An aware datetime whose offset every partner format can carry.
RealOffsetDatetime = Annotated[AwareDatetime, AfterValidator(_real_offset)]
