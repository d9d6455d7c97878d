"""The console's audit verification: a job in the background, watched by polling.

Verifying a year's log takes minutes, longer than a reverse proxy waits for one response. So
the auditor's button starts a job and returns at once; the page then asks for the job's state
every second (``GET /audit/verify``) and shows the records read so far, until the verdict.

One job at a time per console: a second auditor pressing the button while one runs is shown
the running one (two verifications of the same store would only halve each other's speed).
The last job's verdict stays, with who started it and when, until the next one is started.
When the console stops, a running job stops at its next thousand records and says so.

The job does what ``hub audit verify`` does: the store held against the anchor file and the
anchors on ``hub.audit.v1``, then every chain and checkpoint (``hub.audit.verify``). When the
anchors cannot be read it gives no verdict, and says why.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.evidence import Evidence
from hub.audit.store import AuditStore
from hub.audit.verify import VerifyReport, reading_with_progress, verify_chains
from hub.core.errors import HubError
from hub.core.logs import get_logger

__all__ = ["STOP_WAIT_S", "Verification", "VerificationStoppedError", "Verifications"]

log = get_logger(__name__)

#: Hands the evidence every anchor found outside the store (the anchor file, the topic).
GatherAnchors = Callable[[Evidence], Awaitable[None]]
#: How long the console waits, when it stops, for a job to reach its next step; a job still
#: gathering anchors then (a broker that does not answer) is cancelled.
STOP_WAIT_S: Final = 10.0


class VerificationStoppedError(HubError):
    """The console stopped while a verification ran: no verdict."""

    def __init__(self) -> None:
        super().__init__("stopped before the end: the console shut down")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Verification:
    """One verification: who started it and when, how far it has read, and how it ended.

    ``report`` is the verdict; ``error`` says why there is none (anchors unreadable, the
    store failing, the console stopping). Neither: still running.
    """

    started_by: str
    #: The store's records when the job began reading (the log may grow while it runs);
    #: 0 until then.
    total: int = 0
    started_at: dt.datetime = field(default_factory=_now)
    read: int = 0
    anchors_read: int = 0
    finished_at: dt.datetime | None = None
    report: VerifyReport | None = None
    error: str | None = None
    stopping: bool = False
    #: False while the anchors outside the store are read (found by reading all of the audit
    #: topic, every record being a message there too), True once the records are.
    reading_records: bool = False

    @property
    def running(self) -> bool:
        """True until the job has a verdict or a reason for none."""
        return self.finished_at is None

    @property
    def percent(self) -> int:
        """The records read as a whole percentage of ``total`` (at most 100)."""
        if self.total <= 0:
            return 100 if self.read else 0
        return min(100, self.read * 100 // self.total)

    @property
    def seconds(self) -> float:
        """How long the job ran, or has run so far."""
        return ((self.finished_at or _now()) - self.started_at).total_seconds()

    def advance(self, records: int) -> None:
        """Count ``records`` more read; raises ``VerificationStoppedError`` when told to
        stop (called from the worker thread between records)."""
        self.read += records
        if self.stopping:
            raise VerificationStoppedError


class Verifications:
    """The console's verification jobs: at most one running, the last one kept."""

    def __init__(
        self,
        store: AuditStore,
        key: Ed25519PublicKey | None,
        gather: GatherAnchors,
        stop_wait_s: float = STOP_WAIT_S,
    ) -> None:
        self._store = store
        self._key = key
        self._gather = gather
        self._stop_wait_s = stop_wait_s
        self._task: asyncio.Task[None] | None = None
        #: The running job, or the last one to finish; ``None`` before the first.
        self.last: Verification | None = None

    @property
    def has_key(self) -> bool:
        """False when no trusted public key is configured: nothing can be verified."""
        return self._key is not None

    def start(self, user: str) -> Verification | None:
        """Start a verification by ``user``, or return the one running; ``None`` without a
        trusted key."""
        if self._key is None:
            return None
        if self.last is not None and self.last.running:
            return self.last
        # Nothing awaited between the check and here: two presses at once start one job.
        job = Verification(user)
        self.last = job
        self._task = asyncio.create_task(self._run(job, self._key), name="audit-verify")
        return job

    async def close(self) -> None:
        """Stop a running job at its next step and wait for it (the console is stopping)."""
        task, job = self._task, self.last
        if task is None or job is None or not job.running:
            return
        job.stopping = True
        done, _pending = await asyncio.wait({task}, timeout=self._stop_wait_s)
        if not done:
            task.cancel()  # still gathering anchors from a broker that does not answer
            await asyncio.wait({task})

    async def _run(self, job: Verification, key: Ed25519PublicKey) -> None:
        store = self._store
        try:
            with Evidence(key) as evidence:
                job.total = await asyncio.to_thread(store.record_count)
                await self._gather(evidence)
                if job.stopping:
                    raise VerificationStoppedError
                job.reading_records = True
                job.report = await asyncio.to_thread(
                    lambda: verify_chains(
                        store.chains(),
                        reading_with_progress(store.chain, job.advance),
                        store.checkpoints(),
                        key,
                        evidence=evidence,
                    )
                )
                job.anchors_read = evidence.anchors_read
        except HubError as exc:
            job.error = str(exc)
        except asyncio.CancelledError:
            job.error = str(VerificationStoppedError())
            raise
        except Exception as exc:  # noqa: BLE001 - the job ends with a reason, never silently.
            # The driver's message may quote SQL, never a record's payload; still only the
            # kind is shown and logged.
            job.error = f"the verification failed ({type(exc).__name__}); see the hub's log"
            log.error("audit verification failed", error=type(exc).__name__)
        finally:
            job.finished_at = _now()
