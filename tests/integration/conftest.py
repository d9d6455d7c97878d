"""The integration suite's one broker: a real embedded Tansu broker for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.broker.embedded import EmbeddedBroker


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """Start the embedded broker once per session and always stop it."""
    log: Path = tmp_path_factory.mktemp("broker") / "tansu.log"
    broker = EmbeddedBroker(log_path=log)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(embedded: EmbeddedBroker) -> str:
    """``host:port`` of the session's embedded broker."""
    return embedded.bootstrap
