"""``$ref``s inside JSON documents (JSON Schema, AsyncAPI): which definitions are in use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["reachable", "refs_in"]


def refs_in(node: Any) -> Iterator[str]:
    """Every ``$ref`` value in ``node``, depth first."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref":
                yield str(value)
            else:
                yield from refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs_in(item)


def reachable(start: Any, definitions: Mapping[str, Any], prefix: str) -> set[str]:
    """The names in ``definitions`` that ``start`` refers to as ``<prefix><name>``, directly
    or through other definitions."""
    names: set[str] = set()
    pending = [start]
    while pending:
        for ref in refs_in(pending.pop()):
            name = ref.removeprefix(prefix)
            if ref.startswith(prefix) and name not in names:
                names.add(name)
                pending.append(definitions[name])
    return names
