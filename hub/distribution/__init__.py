"""From canonical topics to partner topics, through the contracts and nothing else.

The contract book, the projection of an event onto what a partner may receive, the
renderers of partner formats, the delivery log, and the contract report for people.
"""

from __future__ import annotations

__all__: list[str] = []
