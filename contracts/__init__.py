"""Per-partner data contracts (topics, fields, legal basis) and example messages per schema.

The contract files and the projection step arrive with the labour-authority connector issue.
"""

from __future__ import annotations

__all__: list[str] = []
