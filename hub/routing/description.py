"""What a route is, said as data: its name, what it consumes, its consumer group, what it
publishes.

A ``RouteDescription`` is declared next to the code that builds the route, and the route is
built from it (``RouteDescription.route``), so the two cannot name different topics or
groups. Describing the hub (the AsyncAPI document, ``hub.spec.asyncapi``) reads descriptions only:
it opens no store, needs no pseudonym secret and builds no broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hub.routing.pipeline import Route, Translation
from schemas.rejection import Rejection

__all__ = ["RouteDescription"]

_NOT_BUILT: Final = Rejection("not-built", "a route built only to read its consumer group")


def _not_built(_value: bytes) -> Rejection:
    return _NOT_BUILT


@dataclass(frozen=True, slots=True)
class RouteDescription:
    """One route of the hub, without its translation.

    ``produces`` names the topics its accepted messages go to (not the dead-letter topic,
    which every route may write). ``group_id`` overrides the consumer group ``Route`` derives
    from ``connector``.
    """

    connector: str
    topics: tuple[str, ...]
    produces: tuple[str, ...] = ()
    group_id: str | None = None

    @property
    def consumer_group(self) -> str:
        """The consumer group of the route built from this description."""
        # Route decides the group's name; asking it keeps one rule for both.
        return self.route(_not_built).consumer_group

    def route(self, translate: Translation) -> Route:
        """The route this description describes, translating with ``translate``."""
        return Route(
            connector=self.connector,
            topics=self.topics,
            translate=translate,
            group_id=self.group_id,
        )
