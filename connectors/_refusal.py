"""How a parser gives up on partner bytes inside its own module: ``refuse(reason, detail)``.

Private control flow shared by the connectors' parsers: each catches ``Refusal`` at its
public entry point and returns a ``Rejection``. It never leaves a parser.
"""

from __future__ import annotations

from typing import NoReturn

__all__ = ["Refusal", "refuse"]


class Refusal(Exception):  # noqa: N818 - a refusal is an outcome, not an error.
    """Partner bytes refused; ``reason`` is a stable code, ``detail`` holds no personal data."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def refuse(reason: str, detail: str) -> NoReturn:
    """Stop parsing with a reason and a detail."""
    raise Refusal(reason, detail)
