"""What a connector is to the runtime: a name, the routes it consumes (built and described), the
formats it renders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.pipeline import Route
from hub.rendering import Renderer
from hub.route_description import RouteDescription
from hub.settings import HubSettings

__all__ = ["Connector", "ConnectorContext"]


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """What a connector may use to build its routes."""

    settings: HubSettings
    pseudonym_secret: bytes


def _no_routes(_context: ConnectorContext) -> Sequence[Route]:
    return ()


@dataclass(frozen=True, slots=True)
class Connector:
    """One partner's connector. Registered in ``connectors.CONNECTORS``.

    ``build_routes`` is called once at start-up; ``renderers`` are the partner-native formats
    its contract may name. ``configure_renderers``, when given, returns the same formats
    rendered with the running hub's settings (organisation identifiers, say); the running
    hub uses those. ``routes`` describes what ``build_routes`` builds, without building it
    (the AsyncAPI document is made from it); each route is built from its description.
    """

    name: str
    build_routes: Callable[[ConnectorContext], Sequence[Route]] = _no_routes
    renderers: tuple[Renderer, ...] = ()
    configure_renderers: Callable[[HubSettings], tuple[Renderer, ...]] | None = None
    routes: tuple[RouteDescription, ...] = ()
