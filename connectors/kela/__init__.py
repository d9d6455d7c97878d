"""Kela: benefit payment days in (file and topic), labour-policy XML out.

Read top to bottom: ``native`` (Kela's CSV row), ``inbound`` (line → canonical event or
rejection, pure), ``ledger`` and ``intake`` (each record exactly once), ``outbound`` (canonical
client-status → Kela's XML, pure), ``wiring`` (topics), ``file_ingest`` (``hub ingest kela``:
the monthly file through the same intake and the hub's routing layer).
"""

from __future__ import annotations

from typing import Final

from connectors.kela.wiring import ROUTE, STATEMENT_XML, build_routes
from hub.connector import Connector

__all__ = ["CONNECTOR"]

CONNECTOR: Final = Connector(
    "kela", build_routes=build_routes, renderers=(STATEMENT_XML,), routes=(ROUTE,)
)
