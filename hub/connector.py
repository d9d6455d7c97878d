"""What a connector is to the runtime: a name and its routes."""

from __future__ import annotations

from dataclasses import dataclass

from hub.pipeline import Route

__all__ = ["Connector"]


@dataclass(frozen=True, slots=True)
class Connector:
    """One partner's connector: every route it consumes. Registered in ``connectors``."""

    name: str
    routes: tuple[Route, ...]
