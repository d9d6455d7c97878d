"""Päijät-Sote (the wellbeing services county): FHIR ServiceRequest out, Task status back.

Read top to bottom: ``outbound`` (canonical referral → FHIR R4 ServiceRequest, pure),
``inbound`` (FHIR Task → status update or rejection, pure), ``wiring`` (topics, and the
referral state machine each Task must pass).
"""

from __future__ import annotations

from typing import Final

from connectors.sote.wiring import ROUTE, SERVICE_REQUEST_JSON, build_routes, configured_renderers
from hub.connector import Connector

__all__ = ["CONNECTOR"]

CONNECTOR: Final = Connector(
    "sote",
    build_routes=build_routes,
    renderers=(SERVICE_REQUEST_JSON,),
    configure_renderers=configured_renderers,
    routes=(ROUTE,),
)
