"""What a connector is to the runtime: a name, the routes it consumes (built and described), the
formats it renders; and the one module through which a connector uses the routing and
distribution layers (for its routes, and for a file entry point such as Kela's)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.core.settings import HubSettings
from hub.distribution.contracts import ContractBook
from hub.distribution.rendering import Renderer
from hub.routing.canonical_outgoing import CanonicalEvent, canonical_message, canonical_outgoing
from hub.routing.deadletter import FileLine
from hub.routing.description import RouteDescription
from hub.routing.lines import Audit, HandledLine, handle_lines
from hub.routing.pipeline import Accepted, Ledger, Outgoing, Route, dead_letter_for
from hub.routing.quarantine import QuarantineStore
from hub.routing.transactions import Publisher

__all__ = [
    "Accepted",
    "Audit",
    "CanonicalEvent",
    "Connector",
    "ConnectorContext",
    "ContractBook",
    "FileLine",
    "HandledLine",
    "Ledger",
    "Outgoing",
    "Publisher",
    "QuarantineStore",
    "Renderer",
    "Route",
    "RouteDescription",
    "canonical_message",
    "canonical_outgoing",
    "dead_letter_for",
    "handle_lines",
]


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
