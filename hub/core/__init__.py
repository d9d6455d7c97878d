"""The bottom layer: errors, settings, logging and redaction, the topic catalogue,
metrics, owner-only files and the small SQLite stores.

Imports no other package of the hub; every other package may import it.
"""

from __future__ import annotations

__all__: list[str] = []
