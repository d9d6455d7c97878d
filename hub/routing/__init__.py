"""Routes: a message consumed, translated, its outputs published and audited, or
dead-lettered with its original bytes; failing and stalled routes bounded.

Knows nothing of contracts or partners: connectors and distribution give it routes.
"""

from __future__ import annotations

__all__: list[str] = []
