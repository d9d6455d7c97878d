"""A gate in an audit store's chain reading: holds a reader (a verification) before one
record until opened, so that a job can be seen in the middle whatever the machine's speed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from hub.audit.records import AuditRecord
from hub.audit.store import AuditStore


class ChainGate:
    """Holds ``store``'s chain reading before record ``at`` until ``open`` is set."""

    def __init__(self, store: AuditStore, at: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached = threading.Event()
        self.open = threading.Event()
        self._at = at
        self._read = store.chain
        monkeypatch.setattr(store, "chain", self._gated)

    def _gated(self, chain: str) -> Iterator[AuditRecord]:
        for record in self._read(chain):
            if record.seq == self._at:
                self.reached.set()
                assert self.open.wait(60), "the gate was never opened"
            yield record
