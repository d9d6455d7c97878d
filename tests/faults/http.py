"""Reading the hub's health endpoints from a test."""

from __future__ import annotations

import urllib.error
import urllib.request

__all__ = ["body_of", "status_of"]


def status_of(port: int, path: str) -> int:
    """The HTTP status of ``path`` on the hub's metrics port (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def body_of(port: int, path: str) -> str:
    """The body of ``path``, whatever the status (raises when nothing answers)."""
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return str(answer.read().decode())
    except urllib.error.HTTPError as error:
        return str(error.read().decode())
