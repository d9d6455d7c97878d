"""Administering Kafka: the catalogue's topics created, ACLs generated and applied, and
topics read and written by hand (``hub topics``, ``hub acls``, ``hub tail/send``).
"""

from __future__ import annotations

__all__: list[str] = []
