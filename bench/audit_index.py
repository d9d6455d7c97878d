"""What the audit store's event index costs the append and gives the look-up of one event and
the reading of each event once: ``python -m bench.audit_index [--records N]``.

Two fresh SQLite audit stores in a temporary folder, one with the event index dropped, each
filled with the same N records (batches of 900: 100 handled messages of nine records, as a
Kela input leaves, on four chains, random event ids and person references, 700-byte
payloads); then three look-ups of one event each (near the start, the middle and the end of
the log). Prints the append's CPU per record and the look-ups' wall time for both, and their
ratio. Then, in the indexed store, every event once as ``hub audit replay`` and ``hub stats
rebuild`` read them (``first_of_event``: the store looks each record's earlier records of its
event up by the index), against the baseline of the same run: every record read and the events
seen kept in a set, as both did before. Wall time, and the peak of Python's allocations while
reading (``tracemalloc``, a pass of its own). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from hub.audit.records import AuditDraft, AuditRecord, Direction, EventFacts
from hub.audit.replay import replay_selection
from hub.audit.store import SQLITE_FILE, AuditStore, RecordQuery, open_audit_store

_PER_BATCH = 900
_RECORDS_PER_EVENT = 9


def _fill(store: AuditStore, records: int, seed: int) -> tuple[float, list[str]]:
    """Append ``records`` records; the CPU seconds the appends took and the event ids."""
    rng = random.Random(seed)  # noqa: S311 - made-up test data, not secrets
    payload = rng.randbytes(350).hex().encode()
    events: list[str] = []
    cpu = 0.0
    for batch in range(records // _PER_BATCH):
        entries: list[tuple[str, AuditDraft]] = []
        for message in range(_PER_BATCH // _RECORDS_PER_EVENT):
            event = str(uuid.UUID(int=rng.getrandbits(128)))
            person = f"p-{rng.getrandbits(128):032x}"
            events.append(event)
            offset = batch * _PER_BATCH + message
            for step in range(_RECORDS_PER_EVENT):
                direction = Direction.CONSUMED if step % 2 else Direction.PRODUCED
                facts = EventFacts(event, "fi.paijathame.hub.benefit-day.v2", person)
                topic = "hub.benefit-day.v2"  # canonical: what a replay reads
                draft = AuditDraft(direction, payload, topic, step % 3, offset, facts)
                entries.append((f"bench/route-{step % 4}/{step % 3}", draft))
        started = time.process_time()
        store.append(entries)
        cpu += time.process_time() - started
    return cpu, events


def _seen_in_a_set(store: AuditStore) -> Iterator[AuditRecord]:
    """Each event once, as the replay read it before: every record, the ids seen in a set."""
    seen: set[str] = set()
    for record in store.select(RecordQuery(directions=(Direction.CONSUMED, Direction.PRODUCED))):
        if record.event_id is not None and record.event_id not in seen:
            seen.add(record.event_id)
            yield record


def _by_the_index(store: AuditStore) -> Iterator[AuditRecord]:
    return store.select(replay_selection(RecordQuery()))


def _each_event_once(
    store: AuditStore, read: Callable[[AuditStore], Iterator[AuditRecord]]
) -> tuple[int, float, int]:
    """(events read, wall seconds, peak bytes Python allocated meanwhile)."""
    started = time.perf_counter()
    events = sum(1 for _ in read(store))
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    for _ in read(store):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return events, elapsed, peak


def _measure(folder: Path, records: int, *, indexed: bool) -> tuple[float, list[float], str | None]:
    """(append CPU per record, the look-ups' seconds, the indexed store's each-event-once
    line)."""
    store = open_audit_store(folder, None)
    try:
        if not indexed:
            # The baseline: the store as it was before the index, on a connection of its own.
            with contextlib.closing(sqlite3.connect(folder / SQLITE_FILE)) as db:
                db.execute("DROP INDEX audit_records_event")
        cpu, events = _fill(store, records, seed=7)
        lookups = []
        for event in (events[10], events[len(events) // 2], events[-5]):
            started = time.perf_counter()
            found = list(store.select(RecordQuery(event_id=event)))
            lookups.append(time.perf_counter() - started)
            assert len(found) == _RECORDS_PER_EVENT  # the benchmark read right
        once = _each_event_once_line(store, len(events)) if indexed else None
        return cpu / (records // _PER_BATCH * _PER_BATCH), lookups, once
    finally:
        store.close()


def _each_event_once_line(store: AuditStore, events: int) -> str:
    kept, kept_s, kept_peak = _each_event_once(store, _seen_in_a_set)
    found, found_s, found_peak = _each_event_once(store, _by_the_index)
    assert kept == found == events  # the benchmark read right
    return (
        f"each of {events:,} events once: ids kept in a set {kept_s:.2f} s, peak "
        f"{kept_peak / 2**20:.1f} MiB; by the index {found_s:.2f} s (ratio "
        f"{found_s / kept_s:.2f}), peak {found_peak / 2**20:.1f} MiB"
    )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=270_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audit-index-") as folder:
        without_cpu, without, _ = _measure(Path(folder) / "without", args.records, indexed=False)
        with_cpu, with_, once = _measure(Path(folder) / "with", args.records, indexed=True)
    print(f"{args.records:,} records, SQLite audit store")
    print(
        f"append CPU per record: without the event index {without_cpu * 1e6:.1f} µs, with it "
        f"{with_cpu * 1e6:.1f} µs (ratio {with_cpu / without_cpu:.2f})"
    )
    shown = ", ".join(f"{s * 1000:.1f}" for s in without)
    indexed = ", ".join(f"{s * 1000:.2f}" for s in with_)
    print(
        f"look-up of one event (ms; near the start, the middle, the end): without {shown}; "
        f"with {indexed}"
    )
    print(once)


if __name__ == "__main__":
    main()
