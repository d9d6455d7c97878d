"""Päijät-Häme employment data hub: the runtime (settings, broker wiring, routing, CLI).

Never logs identity codes: every log record passes ``hub.core.redaction``.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
