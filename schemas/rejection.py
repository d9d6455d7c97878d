"""A partner message that could not become canonical, modelled as data."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rejection"]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a partner message was rejected.

    ``reason`` is a short stable code partners can alert on (``bad-date``); ``detail`` is for
    people and never contains an identity code; ``line`` is the file line, when there is one.
    """

    reason: str
    detail: str
    line: int | None = None
