"""What ``hub audit verify`` costs as the log grows: ``python -m bench.audit_verify
[--records N,M] [--every K]``.

For each size, a fresh SQLite audit store in a temporary folder, filled through the hub's
recorder as a busy hub fills it: batches of up to 900 records (100 handled messages of nine
records) on nine of 120 chains, 700-byte payloads, a signed checkpoint every 1,000 records
(``--every``: fewer records per checkpoint stand for a longer log), each also written to an
anchor file.
Then, each in a process of its own (so its peak resident memory, ``VmHWM``, is its own):

- **verify**: what ``hub audit verify --anchor-file F --no-anchor-topic`` does: every chain
  recomputed, every checkpoint's signature checked, the store held against the anchor file;
- **export**: ``hub audit verify --export DIR`` of an export of the whole log (written before
  the measurements);
- **read**: the baseline of the same run, every record of every chain read from the store
  and every checkpoint and anchor read, nothing checked: the reading verification cannot
  avoid.

Prints wall seconds and peak memory of each, and the verifications' ratios to the read. The
verifications must find nothing wrong (asserted: the benchmark read right).
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from hub.audit.anchors import anchor_document, append_anchor_lines, read_anchor_file
from hub.audit.evidence import Evidence
from hub.audit.export import export_window, read_export, verify_export
from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, Direction, EventFacts
from hub.audit.store import open_audit_store
from hub.audit.verify import verify_chains
from hub.core.logs import configure_logging

_PER_BATCH = 900
_RECORDS_PER_MESSAGE = 9
_CHAINS = 120
_ANCHORS = "anchors.jsonl"
_KEY = "audit.key"
_EXPORT = "export"


class Measured(NamedTuple):
    """One measurement in its own process."""

    seconds: float
    peak_mib: float
    records: int


def _fill(folder: Path, records: int, every: int, seed: int) -> None:
    """Append ``records`` records through the recorder; anchor every checkpoint in a file."""
    rng = random.Random(seed)  # noqa: S311 - made-up test data, not secrets
    key = Ed25519PrivateKey.generate()
    (folder / _KEY).write_bytes(
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    payload = rng.randbytes(350).hex().encode()
    store = open_audit_store(folder, None)
    try:
        recorder = AuditRecorder(store, key, checkpoint_every=every, checkpoint_interval_s=1e9)
        # A batch ends where a checkpoint falls due, as in the hub (at most 900 records).
        per_batch = min(_PER_BATCH, -(-every // _RECORDS_PER_MESSAGE) * _RECORDS_PER_MESSAGE)
        for batch in range(records // per_batch):
            chains = rng.sample(range(_CHAINS), _RECORDS_PER_MESSAGE)
            entries: list[tuple[str, AuditDraft]] = []
            for message in range(per_batch // _RECORDS_PER_MESSAGE):
                facts = EventFacts(str(rng.getrandbits(64)), "bench", f"p-{message}")
                for step, chain in enumerate(chains):
                    direction = Direction.CONSUMED if step % 2 else Direction.PRODUCED
                    draft = AuditDraft(direction, payload, "hub.bench.v1", 0, batch, facts)
                    entries.append((f"bench/route-{chain}/0", draft))
            recorder.record_all(entries)
        documents = [anchor_document(stored) for stored in store.unanchored()]
        append_anchor_lines(folder / _ANCHORS, documents)
    finally:
        store.close()


def _peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _verify(folder: Path) -> Measured:
    public = _public_key(folder)
    started = time.perf_counter()
    store = open_audit_store(folder, None)
    try:
        with Evidence(public) as evidence:
            evidence.add_anchors(read_anchor_file(folder / _ANCHORS))
            report = verify_chains(
                store.chains(), store.chain, store.checkpoints(), public, evidence=evidence
            )
    finally:
        store.close()
    assert report.holds, [finding.line() for finding in report.findings]
    return Measured(time.perf_counter() - started, _peak_mib(), report.records)


def _verify_export(folder: Path) -> Measured:
    public = _public_key(folder)
    started = time.perf_counter()
    report = verify_export(read_export(folder / _EXPORT), public)
    assert report.holds, [finding.line() for finding in report.findings]
    return Measured(time.perf_counter() - started, _peak_mib(), report.records)


def _public_key(folder: Path) -> Ed25519PublicKey:
    key = load_pem_private_key((folder / _KEY).read_bytes(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return key.public_key()


def _read(folder: Path) -> Measured:
    started = time.perf_counter()
    store = open_audit_store(folder, None)
    records = 0
    try:
        for chain in store.chains():
            for _ in store.chain(chain):
                records += 1
        for _ in store.checkpoints():
            pass
        for _ in read_anchor_file(folder / _ANCHORS):
            pass
    finally:
        store.close()
    return Measured(time.perf_counter() - started, _peak_mib(), records)


def _in_child(measure: Callable[[Path], Measured], folder: Path) -> Measured:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(measure, (folder,))


def _export(folder: Path) -> None:
    store = open_audit_store(folder, None)
    try:
        export_window(store, _public_key(folder), folder / _EXPORT, None, None, "bench")
    finally:
        store.close()


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", default="90000,360000", help="sizes, comma-separated")
    parser.add_argument(
        "--every", type=int, default=1000, help="records per checkpoint (the hub's default: 1000)"
    )
    args = parser.parse_args()
    configure_logging("info", "json")  # not a debug line per checkpoint signed
    sizes = [int(size) for size in args.records.split(",")]
    print(
        f"{'records':>9} | {'checkpoints':>11} | read s | verify s (ratio) | export s (ratio) "
        "| read MiB | verify MiB | export MiB"
    )
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-audit-verify-") as name:
            folder = Path(name)
            _fill(folder, size, args.every, seed=11)
            _export(folder)
            checkpoints = sum(1 for _ in read_anchor_file(folder / _ANCHORS))
            verify = _in_child(_verify, folder)
            exported = _in_child(_verify_export, folder)
            read = _in_child(_read, folder)
            assert verify.records == exported.records == read.records  # the benchmark read right
            print(
                f"{read.records:>9,} | {checkpoints:>11,} | {read.seconds:>6.2f} | "
                f"{verify.seconds:>8.2f} ({verify.seconds / read.seconds:.2f}) | "
                f"{exported.seconds:>8.2f} ({exported.seconds / read.seconds:.2f}) | "
                f"{read.peak_mib:>8.1f} | {verify.peak_mib:>10.1f} | {exported.peak_mib:>10.1f}"
            )


if __name__ == "__main__":
    main()
