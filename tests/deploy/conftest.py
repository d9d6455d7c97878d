"""The deployment files of docker/, read as an administrator's tools would read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = ["DOCKER", "REPO", "hub_environment", "load_compose"]

REPO = Path(__file__).parents[2]
DOCKER = REPO / "docker"


def load_compose() -> dict[str, Any]:
    """docker/compose.yaml with its YAML anchors and merge keys resolved."""
    loaded = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def hub_environment(service: dict[str, Any]) -> dict[str, str]:
    """The ``HUB_*`` variables a service sets."""
    environment = service.get("environment") or {}
    return {str(k): str(v) for k, v in environment.items() if str(k).startswith("HUB_")}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker/compose.yaml, parsed."""
    return load_compose()
