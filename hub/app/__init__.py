"""The running hub: ``hub up`` (every route, the broker, the stores) and the jobs that
put the layers below together (file ingest, statistics publication).
"""

from __future__ import annotations

__all__: list[str] = []
