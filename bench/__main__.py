"""``python -m bench``: ingest of a generated Kela file against a raw ``csv`` read, same run.

For each size (100,000 and 1,000,000 lines unless ``--sizes`` says otherwise) a valid Kela
payment-day file is generated (``bench.kela_data``) and three measurements are taken, each in
a fresh child process so that its peak memory is its own:

1. ``csv baseline``: ``python -m bench.csv_baseline FILE`` reads the file with ``csv.reader``
   and touches every field;
2. ``ingest --dry-run``: the real CLI, ``python -m hub ingest kela FILE --dry-run``, with a
   fresh data directory (the pseudonym key is generated into it);
3. ``ingest publish``: the real CLI without ``--dry-run`` against a single-node Apache Kafka
   started here (``hub.broker.local.LocalKafka``, one per size, its log directory in the
   temporary folder, topics provisioned with ``hub topics provision``), with a fresh data
   directory, an explicit pseudonym secret, an audit signing key made for the run and the
   hub's default producers (idempotent, ``acks=all``).

Wall time covers the whole child process, interpreter start-up included; a header-only file
is measured once to show that fixed cost. Peak RSS is the child's ``VmHWM`` (``HighWater``).
The broker's own memory (the JVM's ``VmRSS``/``VmHWM``) is read after each publish.

A table goes to stdout, progress to stderr, and everything to
``bench/results/kela-ingest-<date>-<time>.json`` (kept out of git). Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.kela_data import generate
from hub.broker.local import LocalKafka

REPO: Final = Path(__file__).resolve().parent.parent
RESULTS: Final = REPO / "bench" / "results"
DEFAULT_SIZES: Final = (100_000, 1_000_000)

CSV_BASELINE: Final = "csv baseline"
DRY_RUN: Final = "ingest --dry-run"
PUBLISH: Final = "ingest publish"

#: ``hub ingest kela`` exit codes that mean "ran to the end": 3 = some lines rejected.
INGEST_DONE: Final = (0, 3)
#: Growth of peak RSS from the smallest to the largest size still called flat.
FLAT_GROWTH: Final = 0.10
_PUBLISHED_TOPICS: Final = ("hub.benefit-day.v1", "hub.deadletter.v1")
_BENCH_SECRET: Final = "bench-pseudonym-secret-0123456789abcdefgh"  # noqa: S105 - 40 chars, test data.
_MIB: Final = 1024 * 1024


@dataclass
class Measurement:
    """One child process: what ran, how long, how much memory, what it reported."""

    size: int
    name: str
    seconds: float
    cpu_seconds: float
    peak_rss_kib: int
    exit_code: int
    lines_reported: int | None = None
    accepted: int | None = None
    rejected: int | None = None
    published: int | None = None
    broker_rss_before_kib: int | None = None
    broker_rss_after_kib: int | None = None
    broker_peak_rss_kib: int | None = None
    broker_disk_kib: int | None = None
    note: str = ""

    @property
    def lines_per_second(self) -> float:
        """Data lines of the file per second of wall time."""
        return self.size / self.seconds if self.seconds > 0 else 0.0

    @property
    def ok(self) -> bool:
        """The child ran to the end (for ingest: 0, or 3 with rejected lines)."""
        return self.exit_code in INGEST_DONE if self.name != CSV_BASELINE else self.exit_code == 0


@dataclass(frozen=True)
class ChildRun:
    """The raw outcome of a child process."""

    seconds: float
    cpu_seconds: float
    peak_rss_kib: int
    exit_code: int
    stdout: str
    stderr: str


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def hub_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the hub: no inherited ``HUB_`` variables but those given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {"HUB_DATA_DIR": str(data_dir), "HUB_LOG_LEVEL": "warning", "HUB_LOG_FORMAT": "json"}
    )
    env.update(extra)
    return env


def signing_key(path: Path) -> Path:
    """A fresh Ed25519 audit signing key at ``path`` (PEM, mode 0600), for
    ``HUB_AUDIT_SIGNING_KEY_FILE``: against a configured Kafka the hub never makes one up."""
    key = Ed25519PrivateKey.generate()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


class HighWater:
    """A child's ``VmHWM``, read every 20 ms in a thread until it exits.

    ``ru_maxrss`` from ``wait4`` is no measure of the child's own peak: Linux folds into it the
    resident size of the image the child replaced at ``exec``, and a child forked (or vforked)
    from this process starts out as this process, so it reports at least this process's size
    then. ``VmHWM`` belongs to the exec'd image alone. Growth in the last 20 ms before the
    child exits is missed.
    """

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self.kib: int | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.02):
            seen = _status_kib(self._pid, "VmHWM")
            if seen is None:  # exited: a zombie has no memory left to report
                return
            self.kib = seen

    def stop(self) -> int | None:
        """Stop watching; the last peak seen (None if the child was never seen running)."""
        self._done.set()
        self._thread.join()
        return self.kib


def run_child(argv: list[str], env: dict[str, str], logs: Path, label: str) -> ChildRun:
    """Run ``argv`` to completion; wall time, CPU time and peak RSS of that child alone."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / f"{label}.out", logs / f"{label}.err"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
        high_water = HighWater(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    peak = high_water.stop()
    return ChildRun(
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_kib=peak if peak is not None else usage.ru_maxrss,
        exit_code=process.returncode,
        stdout=stdout_path.read_text(encoding="utf-8", errors="replace"),
        stderr=stderr_path.read_text(encoding="utf-8", errors="replace"),
    )


def _status_kib(pid: int | None, field: str) -> int | None:
    """A ``kB`` field (``VmRSS``, ``VmHWM``) of ``/proc/PID/status``; None where unavailable."""
    if pid is None:
        return None
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    return int(match.group(1)) if match else None


def disk_kib(directory: Path) -> int:
    """Disk space the files under ``directory`` (a broker's log directory) take, in KiB.

    Allocated blocks, not sizes: Kafka sets the length of each segment's index files to their
    10 MiB maximum up front, sparse until filled.
    """
    return sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file()) // 1024


def _summary_number(stdout: str, pattern: str) -> int | None:
    match = re.search(pattern, stdout, re.MULTILINE)
    return int(match.group(1)) if match else None


def _measurement(size: int, name: str, child: ChildRun) -> Measurement:
    measured = Measurement(
        size=size,
        name=name,
        seconds=child.seconds,
        cpu_seconds=child.cpu_seconds,
        peak_rss_kib=child.peak_rss_kib,
        exit_code=child.exit_code,
    )
    if name == CSV_BASELINE:
        measured.lines_reported = _summary_number(child.stdout, r"rows=(\d+)")
    else:
        measured.lines_reported = _summary_number(child.stdout, r"(\d+) data line\(s\)")
        measured.accepted = _summary_number(child.stdout, r"^\s+accepted\s+(\d+)")
        measured.rejected = _summary_number(child.stdout, r"^\s+rejected\s+(\d+)")
    notes = []
    if not measured.ok:
        last = (child.stderr.strip() or child.stdout.strip()).splitlines()[-3:]
        notes.append(f"exit {child.exit_code}: " + " | ".join(last))
    if measured.lines_reported is not None and measured.lines_reported != size:
        notes.append(f"reported {measured.lines_reported} lines, expected {size}")
    if measured.rejected:
        notes.append(f"{measured.rejected} lines rejected (the generated file should have none)")
    measured.note = "; ".join(notes)
    return measured


def measure_csv(size: int, path: Path, logs: Path) -> Measurement:
    """The ``csv`` module reading the file, in a child process."""
    argv = [sys.executable, "-m", "bench.csv_baseline", str(path)]
    return _measurement(size, CSV_BASELINE, run_child(argv, dict(os.environ), logs, f"{size}-csv"))


def measure_dry_run(size: int, path: Path, work: Path) -> Measurement:
    """``hub ingest kela FILE --dry-run`` with a fresh data directory."""
    argv = [sys.executable, "-m", "hub", "ingest", "kela", str(path), "--dry-run"]
    env = hub_env(work / f"{size}-dry-run-data")
    return _measurement(size, DRY_RUN, run_child(argv, env, work / "logs", f"{size}-dry-run"))


async def _published(bootstrap: str) -> int:
    """Messages on the topics the ingest writes to, counted by reading them committed.

    Not the partitions' end offsets: the ingest publishes each chunk in a Kafka transaction,
    and each transaction's commit marker takes an offset in every partition it wrote to.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await consumer.start()
    try:
        # Every topic's metadata into the consumer's own view (``topics()`` only returns it).
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, partition)
            for topic in _PUBLISHED_TOPICS
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = await consumer.end_offsets(partitions)
        wanted = [tp for tp, end in ends.items() if end > 0]
        if not wanted:
            return 0
        consumer.assign(wanted)
        await consumer.seek_to_beginning(*wanted)
        count = idle = 0
        # Until two polls in a row bring nothing: a partition's last offset can be a commit
        # marker, which no record ever reaches.
        while idle < 2:
            batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            count += sum(len(records) for records in batch.values())
            idle = 0 if batch else idle + 1
        return count
    finally:
        await consumer.stop()


def measure_publish(size: int, path: Path, work: Path) -> Measurement:
    """``hub ingest kela FILE`` against a Kafka broker of its own (topics provisioned)."""
    logs = work / "logs"
    # Its log directory and broker.log in work/<size>-broker/kafka, removed with the run.
    broker = LocalKafka(work / f"{size}-broker")
    try:
        bootstrap = broker.start()
        env = hub_env(
            work / f"{size}-publish-data",
            HUB_KAFKA_BOOTSTRAP=bootstrap,
            HUB_PSEUDONYM_SECRET=_BENCH_SECRET,
            HUB_AUDIT_SIGNING_KEY_FILE=str(signing_key(work / f"{size}-audit-signing.key")),
        )
        provision = run_child(
            [sys.executable, "-m", "hub", "topics", "provision"], env, logs, f"{size}-provision"
        )
        if provision.exit_code != 0:
            raise SystemExit(f"hub topics provision failed: {provision.stderr.strip()}")
        before = _status_kib(broker.pid, "VmRSS")
        argv = [sys.executable, "-m", "hub", "ingest", "kela", str(path)]
        measured = _measurement(size, PUBLISH, run_child(argv, env, logs, f"{size}-publish"))
        measured.broker_rss_before_kib = before
        measured.broker_rss_after_kib = _status_kib(broker.pid, "VmRSS")
        measured.broker_peak_rss_kib = _status_kib(broker.pid, "VmHWM")
        measured.broker_disk_kib = disk_kib(broker.directory / "logs")
        try:
            measured.published = asyncio.run(asyncio.wait_for(_published(bootstrap), 300))
        except (KafkaError, OSError, TimeoutError) as exc:
            measured.note = "; ".join(
                filter(None, [measured.note, f"published count unavailable: {exc!r}"])
            )
        if measured.published is not None and measured.published != size:
            measured.note = "; ".join(
                filter(None, [measured.note, f"{measured.published} messages on the broker"])
            )
    finally:
        broker.stop()
    return measured


def measure(name: str, size: int, path: Path, work: Path) -> Measurement:
    """Take measurement ``name`` of the ``size``-line file at ``path``."""
    if name == CSV_BASELINE:
        return measure_csv(size, path, work / "logs")
    if name == DRY_RUN:
        return measure_dry_run(size, path, work)
    return measure_publish(size, path, work)


def measure_startup(work: Path) -> list[Measurement]:
    """The fixed cost: both children on a header-only file (0 data lines)."""
    empty = generate(work / "kela-0.csv", 0)
    return [measure_csv(0, empty, work / "logs"), measure_dry_run(0, empty, work)]


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


def print_table(measurements: list[Measurement], startup: list[Measurement]) -> None:
    """The results table, the broker's memory, and the flatness of peak RSS over sizes."""
    baselines = {m.size: m for m in measurements if m.name == CSV_BASELINE}
    header = (
        f"{'size':>10} | {'measurement':<17} | {'seconds':>8} | {'lines/s':>10} | "
        f"{'ratio to csv':>12} | {'x csv time':>10} | {'peak RSS MiB':>12} | {'CPU s':>7}"
    )
    print()
    print(header)
    print("-" * len(header))
    for m in measurements:
        base = baselines.get(m.size)
        ratio = m.lines_per_second / base.lines_per_second if base and m is not base else None
        print(
            f"{m.size:>10,} | {m.name:<17} | {m.seconds:>8.2f} | {m.lines_per_second:>10,.0f} | "
            f"{'1 (baseline)' if m is base else f'{ratio:.4f}' if ratio else '-':>12} | "
            f"{f'{1 / ratio:.1f}' if ratio else '-':>10} | {_mib(m.peak_rss_kib):>12} | "
            f"{m.cpu_seconds:>7.2f}"
        )
    print()
    for m in startup:
        print(
            f"fixed cost (header-only file): {m.name}: {m.seconds:.2f} s, "
            f"peak RSS {_mib(m.peak_rss_kib)} MiB"
        )
    for m in measurements:
        if m.name == PUBLISH:
            published = m.published if m.published is not None else "?"
            print(
                f"broker (Apache Kafka JVM) at {m.size:,} lines: RSS "
                f"{_mib(m.broker_rss_before_kib)} MiB before ingest, "
                f"{_mib(m.broker_rss_after_kib)} MiB after, peak {_mib(m.broker_peak_rss_kib)} MiB;"
                f" log directory {_mib(m.broker_disk_kib)} MiB; {published} messages on the broker"
            )
    for line in flatness(measurements):
        print(line["text"])
    for m in measurements:
        if m.note:
            print(f"NOTE {m.size:,} {m.name}: {m.note}")


def flatness(measurements: list[Measurement]) -> list[dict[str, Any]]:
    """Per measurement: peak RSS at the smallest vs the largest size, and whether it is flat."""
    rows: list[dict[str, Any]] = []
    for name in (CSV_BASELINE, DRY_RUN, PUBLISH):
        runs = sorted((m for m in measurements if m.name == name), key=lambda m: m.size)
        if len(runs) < 2:
            continue
        small, large = runs[0], runs[-1]
        growth = (large.peak_rss_kib - small.peak_rss_kib) / small.peak_rss_kib
        per_million = (
            (large.peak_rss_kib - small.peak_rss_kib) / 1024 / (large.size - small.size) * 1e6
        )
        verdict = "flat" if growth <= FLAT_GROWTH else "GROWS with file size"
        rows.append(
            {
                "measurement": name,
                "small_size": small.size,
                "large_size": large.size,
                "small_peak_rss_kib": small.peak_rss_kib,
                "large_peak_rss_kib": large.peak_rss_kib,
                "growth": growth,
                "mib_per_million_lines": per_million,
                "flat": growth <= FLAT_GROWTH,
                "text": (
                    f"peak RSS {name}: {_mib(small.peak_rss_kib)} MiB at {small.size:,} lines vs "
                    f"{_mib(large.peak_rss_kib)} MiB at {large.size:,} lines ({growth:+.1%}, "
                    f"{per_million:+.1f} MiB per million lines): {verdict}"
                ),
            }
        )
    return rows


def _git_revision() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    revision = subprocess.run(
        [git, "describe", "--always", "--dirty"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return revision.stdout.strip() or None


def _machine() -> dict[str, Any]:
    memory = None
    try:
        meminfo = Path("/proc/meminfo").read_text(encoding="ascii")
        match = re.search(r"^MemTotal:\s+(\d+) kB$", meminfo, re.MULTILINE)
        memory = int(match.group(1)) if match else None
    except OSError:
        pass
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "mem_total_kib": memory,
    }


def write_results(
    started: dt.datetime,
    args: argparse.Namespace,
    measurements: list[Measurement],
    startup: list[Measurement],
) -> Path:
    """Everything measured, as JSON under ``bench/results/``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"kela-ingest-{started:%Y-%m-%d-%H%M%S}.json"

    def row(m: Measurement) -> dict[str, Any]:
        base = next((b for b in measurements if b.size == m.size and b.name == CSV_BASELINE), None)
        ratio = (
            m.lines_per_second / base.lines_per_second
            if base is not None and base.lines_per_second
            else None
        )
        return {**asdict(m), "lines_per_second": m.lines_per_second, "ratio_to_csv": ratio}

    document = {
        "benchmark": "kela-ingest",
        "started": started.isoformat(timespec="seconds"),
        "git": _git_revision(),
        "machine": _machine(),
        "sizes": args.sizes,
        "skip_publish": args.skip_publish,
        "measurements": [row(m) for m in measurements],
        "fixed_cost": [asdict(m) for m in startup],
        "peak_rss_flatness": [
            {k: v for k, v in f.items() if k != "text"} for f in flatness(measurements)
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of integers: {text}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive line counts")
    return sorted(set(sizes))


def add_sizes_option(parser: argparse.ArgumentParser, default: Sequence[int], what: str) -> None:
    """``--sizes``: a comma-separated list of ``what`` (positive integers), sorted."""
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(default),
        help=f"comma-separated {what} (default {','.join(map(str, default))})",
    )


def main() -> None:
    """Parse the options, measure every size, print the table, write the JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Kela file ingest (dry run and publish) against a raw csv read, same run.",
    )
    add_sizes_option(parser, DEFAULT_SIZES, "line counts")
    parser.add_argument(
        "--skip-publish", action="store_true", help="skip the broker (publish) measurement"
    )
    parser.add_argument(
        "--tmp-dir", type=Path, default=None, help="where the generated files go (default: TMPDIR)"
    )
    args = parser.parse_args()

    started = dt.datetime.now(dt.UTC).astimezone()
    measurements: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="kela-bench-", dir=args.tmp_dir) as tmp:
        work = Path(tmp)
        _log("fixed cost (header-only file) …")
        startup = measure_startup(work)
        for size in args.sizes:
            generating = time.perf_counter()
            path = generate(work / f"kela-{size}.csv", size)
            _log(
                f"[{size:,}] generated {path.stat().st_size / _MIB:.1f} MiB in "
                f"{time.perf_counter() - generating:.1f} s"
            )
            for name in (CSV_BASELINE, DRY_RUN, PUBLISH):
                if name == PUBLISH and args.skip_publish:
                    continue
                measured = measure(name, size, path, work)
                measurements.append(measured)
                _log(
                    f"[{size:,}] {measured.name}: {measured.seconds:.2f} s, "
                    f"peak RSS {_mib(measured.peak_rss_kib)} MiB, exit {measured.exit_code}"
                )
            path.unlink()
    print_table(measurements, startup)
    results = write_results(started, args, measurements, startup)
    print(f"\nresults: {results.relative_to(REPO)}")


if __name__ == "__main__":
    main()
