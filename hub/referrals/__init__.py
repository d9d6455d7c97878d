"""The referral register and the route that keeps it in step with the canonical
referral topics.
"""

from __future__ import annotations

__all__: list[str] = []
