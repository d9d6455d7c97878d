"""The hub described: the AsyncAPI document and the generated parts of ``docs/``."""

from __future__ import annotations

__all__: list[str] = []
