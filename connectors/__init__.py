"""One package per partner: native models, pure translations in and out, wiring.

``CONNECTORS`` is what ``hub up`` runs. It is empty until the first partner connector lands
(Kela, the labour authorities, Päijät-Sote each have their own issue).
"""

from __future__ import annotations

from typing import Final

from hub.connector import Connector

__all__ = ["CONNECTORS"]

CONNECTORS: Final[tuple[Connector, ...]] = ()
