"""One package per partner: native models, pure translations in and out, wiring.

``CONNECTORS`` is what ``hub up`` runs.
"""

from __future__ import annotations

from typing import Final

from connectors import authorities, kela, sote
from hub.connector import Connector

__all__ = ["CONNECTORS"]

CONNECTORS: Final[tuple[Connector, ...]] = (
    kela.CONNECTOR,
    authorities.CONNECTOR,
    sote.CONNECTOR,
)
