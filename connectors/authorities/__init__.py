"""The two labour authorities (``lahti``, ``ph``): client-status and referrals in, referral
status out.

Read top to bottom: ``native`` (the authorities' JSON), ``inbound`` (JSON → canonical or
rejection, pure), ``state`` (each message once; where people live, for moves), ``outbound``
(canonical referral status → the authorities' JSON, pure), ``wiring`` (topics).
"""

from __future__ import annotations

from typing import Final

from connectors.authorities.wiring import REFERRAL_STATUS_JSON, ROUTES, build_routes
from hub.connector import Connector

__all__ = ["CONNECTOR"]

CONNECTOR: Final = Connector(
    "authorities", build_routes=build_routes, renderers=(REFERRAL_STATUS_JSON,), routes=ROUTES
)
