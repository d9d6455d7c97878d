"""The deployment files of docker/, read as an administrator's tools would read them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = [
    "DOCKER",
    "REPO",
    "compose_node_environment",
    "hub_environment",
    "load_compose",
    "read_properties",
    "run_start_node",
]

REPO = Path(__file__).parents[2]
DOCKER = REPO / "docker"

#: Stands in for Kafka's own scripts: records the arguments it was called with.
RECORDER = """#!/bin/sh
for arg in "$@"; do printf '%s\\n' "$arg"; done > "$RECORD_DIR/$(basename "$0").args"
"""


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


def compose_node_environment(compose: dict[str, Any], service: str) -> dict[str, str]:
    """The environment compose gives a Kafka node, with the values docker/.env would fill in."""
    filled = {"CLUSTER_ID": "q4q49TnCykuNX5DfLDNUaQ", "EXTERNAL_HOST": "localhost"}
    environment = {str(k): str(v) for k, v in compose["services"][service]["environment"].items()}
    return {k: filled.get(k, v) for k, v in environment.items()}


def read_properties(path: Path) -> dict[str, str]:
    """A ``.properties`` file as Kafka reads the simple ones start-node.sh writes."""
    return dict(
        line.split("=", 1)
        for line in path.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )


def run_start_node(
    folder: Path, environment: Mapping[str, str], secrets: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """docker/kafka/start-node.sh with ``environment``, the mounted folders under ``folder``
    and Kafka's scripts replaced by recorders (``folder/<script>.args``).

    The configuration lands in ``folder/etc`` (``/etc/kafka`` in the image); the certificates'
    folder keeps the image's path, which only appears in the properties.
    """
    kafka_bin = folder / "kafka" / "bin"
    kafka_bin.mkdir(parents=True, exist_ok=True)
    for name in ("kafka-storage.sh", "kafka-server-start.sh"):
        (kafka_bin / name).write_text(RECORDER, encoding="utf-8")
        (kafka_bin / name).chmod(0o755)
    secret_dir = folder / "secrets"
    secret_dir.mkdir(exist_ok=True)
    for name, value in secrets.items():
        (secret_dir / name).write_text(value + "\n", encoding="utf-8")
    (folder / "etc").mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        **environment,
        "SECRETS": str(secret_dir),
        "CONFIG_DIR": str(folder / "etc"),
        "KAFKA_HOME": str(folder / "kafka"),
        "RECORD_DIR": str(folder),
    }
    return subprocess.run(
        ["/bin/sh", str(DOCKER / "kafka" / "start-node.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
