"""``python -m bench.flows``: each partner flow through the running hub, against a raw pass-through.

For each size (``--sizes``, messages per flow) one single-node Apache Kafka is started
(``hub.broker.local.LocalKafka``, its log directory in the run's temporary folder), every
topic provisioned (``hub topics provision``), and two processes started on it:

* the hub, ``python -m hub up`` against that broker (fresh data directory, audit on as it
  always is, the default producers: idempotent, ``acks=all``);
* the baseline, ``python -m bench.passthrough``: raw aiokafka consume → copy → produce with the
  same producer guarantees, with as many hops as the hub's flow (two stages chained,
  ``bench.raw.<flow>.in`` → ``.mid`` → ``.out``; topics with the hub's partition counts).

For each flow (``bench.flow_data``) and each side, the same pre-generated inputs (same bytes,
keys and headers) are produced in three phases: a warm-up (not measured), a burst of N inputs
(throughput: N ÷ the time from the first input produced to the last output received) and
``--latency-count`` inputs paced at ``--latency-rate`` per second (end-to-end latency of each:
from just before its produce call to its output's receipt, p50 and p99; paced, because in a
burst the latency is mostly the time spent queueing behind the burst). Outputs are matched to
inputs by the ``correlation_id`` header: the hub sets it to the event id, and the inputs carry
it for the pass-through to copy.

A table goes to stdout, progress to stderr, and everything to
``bench/results/flows-<date>-<time>.json`` (kept out of git). With two or more sizes the hub's
peak RSS (its ``VmHWM``) is compared between the smallest and the largest.
``--profile`` records the hub with py-spy during each flow's burst. Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.__main__ import (
    REPO,
    RESULTS,
    _git_revision,
    _machine,
    _status_kib,
    add_sizes_option,
    disk_kib,
    hub_env,
    signing_key,
)
from bench.flow_data import FLOWS, Flow, Input, inputs_for
from hub.broker.local import LocalKafka
from hub.core.topics import TOPICS
from hub.referrals.register import ReferralKey, ReferralRegister

_SUMMARY: Final = "Each flow through the running hub against a raw aiokafka pass-through."
DEFAULT_SIZES: Final = (2_000, 20_000)
HUB: Final = "hub"
RAW: Final = "raw"
_SECRET: Final = "bench-pseudonym-secret-0123456789abcdefgh"  # noqa: S105 - test data.
_READY_PREFIX: Final = "export HUB_KAFKA_BOOTSTRAP="
#: No new output for this long ends a phase as incomplete (reported, never hidden).
_STALL_S: Final = 120.0
_CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Phase:
    """What one phase measured on one side of one flow."""

    flow: str
    side: str
    size: int
    sent: int
    received: int = 0
    seconds: float = 0.0
    cpu_seconds: float | None = None
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    #: (seconds since the first input, outputs arrived, the process's VmRSS in KiB), each second.
    rss_samples: list[tuple[float, int, int]] = field(default_factory=list, repr=False)

    @property
    def per_second(self) -> float:
        """Outputs received per second."""
        return self.received / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile of the latencies (nearest rank), in milliseconds."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class FlowResult:
    """A flow's burst and paced phases on both sides."""

    flow: Flow
    burst: dict[str, Phase] = field(default_factory=dict)
    paced: dict[str, Phase] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Hub throughput ÷ raw pass-through throughput."""
        hub, raw = self.burst.get(HUB), self.burst.get(RAW)
        if hub is None or raw is None or not raw.per_second:
            return None
        return hub.per_second / raw.per_second


@dataclass
class SizeResult:
    """Everything measured at one size."""

    size: int
    flows: list[FlowResult] = field(default_factory=list)
    hub_peak_rss_kib: int | None = None
    hub_cpu_seconds: float | None = None
    raw_peak_rss_kib: int | None = None
    broker_peak_rss_kib: int | None = None
    broker_disk_kib: int | None = None
    inputs_total: int = 0
    profiles: list[str] = field(default_factory=list)


# -- processes --------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a running process so far (``/proc/PID/stat``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def _start(argv: list[str], env: dict[str, str], logs: Path, label: str) -> subprocess.Popen[bytes]:
    with (logs / f"{label}.out").open("wb") as out, (logs / f"{label}.err").open("wb") as err:
        return subprocess.Popen(
            argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )


def _exited(pid: int) -> bool:
    """True once ``pid`` is a zombie or gone; unlike ``Popen.poll`` it does not reap the child,
    so ``wait4`` still gets its resource usage."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return True
    return re.search(r"^State:\s+Z", status, re.MULTILINE) is not None


def _wait_for(process: subprocess.Popen[bytes], path: Path, pattern: str, timeout_s: float) -> str:
    """The first line of ``path`` starting with ``pattern`` once the child printed it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(pattern):
                return line
        if _exited(process.pid):
            break
        time.sleep(0.1)
    errors = path.with_suffix(".err").read_text(encoding="utf-8", errors="replace")
    raise SystemExit(f"{path.stem} did not start:\n{errors[-3000:]}")


def _stop(process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> tuple[int, float]:
    """SIGINT, then wait: (peak RSS KiB, CPU seconds) of the child. The peak is its ``VmHWM``
    before the signal (``bench.__main__.HighWater`` says why not ``ru_maxrss``); CPU from
    ``wait4``."""
    peak = _status_kib(process.pid, "VmHWM")
    if not _exited(process.pid):
        process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return peak if peak is not None else usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            process.kill()
        time.sleep(0.1)


# -- topics -----------------------------------------------------------------------------------


def _raw_topics(flow: Flow) -> tuple[str, str, str]:
    return f"bench.raw.{flow.name}.in", f"bench.raw.{flow.name}.mid", f"bench.raw.{flow.name}.out"


async def _create_raw_topics(bootstrap: str, partitions: int) -> None:
    """The pass-through's topics, with the partition counts of the hub's topics they stand for."""
    counts = {spec.name: spec.partitions or partitions for spec in TOPICS}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(name, counts[hub_topic], 1)
                for flow in FLOWS
                for name, hub_topic in zip(
                    _raw_topics(flow),
                    (flow.in_topic, flow.canonical_topic, flow.out_topics[0]),
                    strict=True,
                )
            ]
        )
    finally:
        await admin.close()


# -- measuring --------------------------------------------------------------------------------


class Collector:
    """Reads output topics from their end and stamps each record's receipt by its
    ``correlation_id`` header."""

    def __init__(self, bootstrap: str, topics: tuple[str, ...]) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._topics = topics
        self.received: dict[str, float] = {}
        self.wanted: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._progress = asyncio.Event()

    async def __aenter__(self) -> Collector:
        await self._consumer.start()
        await self._consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in self._topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        # Resolve "latest" now, before the phase produces: resolved lazily on the first fetch,
        # it could land after the first outputs and lose them.
        for tp in partitions:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()

    async def _collect(self) -> None:
        while True:
            fetched = await self._consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for records in fetched.values():
                for record in records:
                    for name, value in record.headers:
                        if name == "correlation_id":
                            event_id = value.decode()
                            # Only this phase's ids, each at its first receipt: a
                            # redelivered duplicate (at-least-once) counts neither time.
                            if event_id in self.wanted and event_id not in self.received:
                                self.received[event_id] = now
                                self._progress.set()

    async def until(self, ids: set[str]) -> bool:
        """Wait until every id in ``ids`` arrived; False if the outputs stalled first."""
        while not ids <= self.received.keys():
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), _STALL_S)
            except TimeoutError:
                return ids <= self.received.keys()
        return True


async def _run_phase(
    bootstrap: str,
    in_topic: str,
    out_topics: tuple[str, ...],
    inputs: list[Input],
    rate: float | None,
    phase: Phase,
    pid: int,
) -> None:
    """Produce ``inputs`` (as fast as possible, or ``rate`` per second) and wait for their
    outputs; fill ``phase``."""
    ids = {item.event_id for item in inputs}
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        async with Collector(bootstrap, out_topics) as collector:
            collector.wanted = ids
            sent: dict[str, float] = {}
            acks = []
            cpu_before = _cpu_seconds(pid)
            first = time.perf_counter()
            sampler = asyncio.create_task(_sample_rss(pid, first, collector, phase))
            for index, item in enumerate(inputs):
                if rate is not None:
                    await asyncio.sleep(max(0.0, first + index / rate - time.perf_counter()))
                sent[item.event_id] = time.perf_counter()
                headers = [("correlation_id", item.event_id.encode())]
                acks.append(
                    await producer.send(in_topic, item.value, key=item.key, headers=headers)
                )
            await asyncio.gather(*acks)
            await collector.until(ids)
            cpu_after = _cpu_seconds(pid)
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            arrived = {i: collector.received[i] for i in ids if i in collector.received}
    finally:
        await producer.stop()
    phase.received = len(arrived)
    phase.seconds = (max(arrived.values()) - first) if arrived else 0.0
    if cpu_before is not None and cpu_after is not None:
        phase.cpu_seconds = cpu_after - cpu_before
    phase.latencies_ms = [(arrived[i] - sent[i]) * 1000 for i in arrived]


async def _sample_rss(pid: int, first: float, collector: Collector, phase: Phase) -> None:
    """Each second, the process's resident memory against the outputs arrived so far: shows
    whether memory levels off during a long burst, not only its peak."""
    while True:
        rss = _status_kib(pid, "VmRSS")
        if rss is not None:
            phase.rss_samples.append(
                (round(time.perf_counter() - first, 1), len(collector.received), rss)
            )
        await asyncio.sleep(1.0)


def _rss_course(phase: Phase) -> str | None:
    """VmRSS when a tenth, half and all of the burst's outputs had arrived (a share never
    reached is shown at the last sample, with the share that had arrived then)."""
    if not phase.rss_samples or not phase.sent:
        return None
    points = []
    for share in (0.1, 0.5, 1.0):
        reached = [
            (arrived, rss) for _, arrived, rss in phase.rss_samples if arrived >= share * phase.sent
        ]
        arrived, rss = reached[0] if reached else phase.rss_samples[-1][1:]
        points.append(f"{_mib(rss)} MiB at {min(share, arrived / phase.sent):.0%}")
    return ", ".join(points)


def _profile_start(pid: int, path: Path) -> subprocess.Popen[bytes] | None:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        _log("py-spy not found: install the dev extras (pip install -e '.[dev]')")
        return None
    argv = [
        py_spy,
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--rate",
        "200",
        "-o",
        str(path),
    ]
    return subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _profile_stop(profiler: subprocess.Popen[bytes] | None) -> None:
    if profiler is not None and profiler.poll() is None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(60)


async def _wait_registered(data_dir: Path, referral_id: str) -> None:
    """The referral-status flow needs the referrals in the hub's register (another route)."""
    deadline = time.monotonic() + _STALL_S
    register = ReferralRegister.open(data_dir)
    try:
        while register.referral(ReferralKey("lahti", referral_id)) is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"referral {referral_id} never reached the hub's register")
            await asyncio.sleep(0.2)
    finally:
        register.close()


async def measure_flow(
    flow: Flow,
    args: argparse.Namespace,
    size: int,
    bootstrap: str,
    pids: dict[str, int],
    data_dir: Path,
    work: Path,
) -> tuple[FlowResult, list[str]]:
    """Both sides of one flow: warm-up, burst and paced phases."""
    warmup, paced = args.warmup, args.latency_count
    inputs = inputs_for(flow, warmup + size + paced)
    parts = (inputs[:warmup], inputs[warmup : warmup + size], inputs[warmup + size :])
    result, profiles = FlowResult(flow), []
    raw_in, _, raw_out = _raw_topics(flow)
    for side in (RAW, HUB):
        in_topic, out_topics = (
            (raw_in, (raw_out,)) if side == RAW else (flow.in_topic, flow.out_topics)
        )
        if side == HUB and flow.name == "referral-status":
            await _wait_registered(data_dir, f"L-BENCH-{len(inputs) - 1:09d}")
        await _run_phase(
            bootstrap,
            in_topic,
            out_topics,
            parts[0],
            None,
            Phase(flow.name, side, size, warmup),
            pids[side],
        )
        profiler = None
        if args.profile and side == HUB:
            path = work / f"profile-{size}-{flow.name}.txt"
            profiler = _profile_start(pids[side], path)
            profiles.append(str(path))
        burst = Phase(flow.name, side, size, size)
        try:
            await _run_phase(bootstrap, in_topic, out_topics, parts[1], None, burst, pids[side])
        finally:
            _profile_stop(profiler)
        result.burst[side] = burst
        timed = Phase(flow.name, side, size, paced)
        await _run_phase(
            bootstrap, in_topic, out_topics, parts[2], args.latency_rate, timed, pids[side]
        )
        result.paced[side] = timed
        _log(
            f"[{size:,}] {flow.name} {side}: {burst.per_second:,.0f} msgs/s "
            f"({burst.received}/{burst.sent} in {burst.seconds:.1f} s), latency p50 "
            f"{_ms(timed.percentile(0.5))} p99 {_ms(timed.percentile(0.99))} ms"
        )
    return result, profiles


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _provision(bootstrap: str, env: dict[str, str], logs: Path, partitions: int) -> None:
    provision = subprocess.run(
        [sys.executable, "-m", "hub", "topics", "provision"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    (logs / "provision.err").write_text(provision.stderr, encoding="utf-8")
    if provision.returncode != 0:
        raise SystemExit(f"hub topics provision failed: {provision.stderr.strip()}")
    asyncio.run(_create_raw_topics(bootstrap, partitions))


def measure_size(size: int, args: argparse.Namespace, work: Path) -> SizeResult:
    """One broker, one hub, one pass-through; every flow at ``size`` messages."""
    logs = work / f"logs-{size}"
    logs.mkdir(parents=True)
    # Its log directory and broker.log in work/kafka-<size>/kafka (kept with --keep).
    broker = LocalKafka(work / f"kafka-{size}")
    result = SizeResult(size)
    hub = raw = None
    try:
        bootstrap = broker.start()
        data_dir = work / f"hub-data-{size}"
        env = hub_env(
            data_dir,
            HUB_KAFKA_BOOTSTRAP=bootstrap,
            HUB_PSEUDONYM_SECRET=_SECRET,
            # Against a configured bootstrap the hub never makes up its own signing key.
            HUB_AUDIT_SIGNING_KEY_FILE=str(signing_key(work / f"audit-signing-{size}.key")),
            HUB_LOG_LEVEL=args.hub_log_level,
            HUB_ROUTE_BATCH=str(args.hub_batch),
        )
        _provision(bootstrap, env, logs, 3)
        raw_stages = [
            f"{a}:{b}" for flow in FLOWS for a, b in itertools.pairwise(_raw_topics(flow))
        ]
        raw = _start(
            [sys.executable, "-m", "bench.passthrough", bootstrap, *raw_stages],
            dict(os.environ),
            logs,
            "raw",
        )
        hub = _start([sys.executable, "-m", "hub", "up"], env, logs, "hub")
        _wait_for(raw, logs / "raw.out", "ready", 60)
        _wait_for(hub, logs / "hub.out", _READY_PREFIX, 120)
        pids = {HUB: hub.pid, RAW: raw.pid}
        cpu_before = _cpu_seconds(hub.pid) or 0.0
        for flow in FLOWS:
            if args.flows and flow.name not in args.flows:
                continue
            measured, profiles = asyncio.run(
                measure_flow(flow, args, size, bootstrap, pids, data_dir, work)
            )
            result.flows.append(measured)
            result.profiles.extend(profiles)
            result.inputs_total += args.warmup + size + args.latency_count
        result.hub_cpu_seconds = (_cpu_seconds(hub.pid) or 0.0) - cpu_before
        result.broker_peak_rss_kib = _status_kib(broker.pid, "VmHWM")
        result.broker_disk_kib = disk_kib(broker.directory / "logs")
    finally:
        if hub is not None:
            result.hub_peak_rss_kib = _stop(hub)[0]
        if raw is not None:
            result.raw_peak_rss_kib = _stop(raw)[0]
        broker.stop()
    return result


# -- reporting --------------------------------------------------------------------------------


def print_table(results: list[SizeResult], args: argparse.Namespace) -> None:
    """Per size and flow: hub and raw throughput, their ratio, and latency p50/p99."""
    header = (
        f"{'size':>7} | {'flow':<16} | {'hub msg/s':>9} | {'raw msg/s':>9} | {'ratio':>6} | "
        f"{'hub p50':>8} | {'hub p99':>8} | {'raw p50':>8} | {'raw p99':>8} | "
        f"{'hub CPU ms/msg':>14}"
    )
    print()
    print(
        f"burst of SIZE messages per flow; latency (ms) over {args.latency_count} messages "
        f"paced at {args.latency_rate:g}/s; raw = aiokafka pass-through, two chained stages"
    )
    print(header)
    print("-" * len(header))
    for size in results:
        for flow in size.flows:
            hub, raw = flow.burst[HUB], flow.burst[RAW]
            cpu = (
                f"{hub.cpu_seconds * 1000 / hub.received:.2f}"
                if hub.cpu_seconds and hub.received
                else "-"
            )
            ratio = f"{flow.ratio:.3f}" if flow.ratio is not None else "-"
            latencies = [
                _ms(flow.paced[side].percentile(q)) for side in (HUB, RAW) for q in (0.5, 0.99)
            ]
            print(
                f"{size.size:>7,} | {flow.flow.name:<16} | {hub.per_second:>9,.0f} | "
                f"{raw.per_second:>9,.0f} | {ratio:>6} | "
                + "".join(f"{latency:>8} | " for latency in latencies)
                + f"{cpu:>14}"
            )
    print()
    for size in results:
        print(
            f"at {size.size:,} per flow ({size.inputs_total:,} inputs in all): hub peak RSS "
            f"{_mib(size.hub_peak_rss_kib)} MiB, hub CPU {size.hub_cpu_seconds or 0:.1f} s; "
            f"pass-through peak RSS {_mib(size.raw_peak_rss_kib)} MiB; broker peak RSS "
            f"{_mib(size.broker_peak_rss_kib)} MiB, log directory {_mib(size.broker_disk_kib)} MiB"
        )
    for line in _flatness(results):
        print(line)
    for size in results:
        for flow in size.flows:
            course = _rss_course(flow.burst[HUB])
            if course is not None:
                print(
                    f"hub VmRSS during the {size.size:,} burst of {flow.flow.name} (outputs "
                    f"arrived): {course}"
                )
    for size in results:
        for flow in size.flows:
            for phase in (*flow.burst.values(), *flow.paced.values()):
                if phase.received != phase.sent:
                    print(
                        f"NOTE {size.size:,} {phase.flow} {phase.side}: "
                        f"{phase.received} of {phase.sent} outputs arrived"
                    )
        for path in size.profiles:
            print(f"profile: {path}")


def _mib(kib: int | None) -> str:
    return "-" if kib is None else f"{kib / 1024:.1f}"


def _flatness(results: list[SizeResult]) -> list[str]:
    measured = [r for r in results if r.hub_peak_rss_kib]
    if len(measured) < 2:
        return []
    small, large = measured[0], measured[-1]
    assert small.hub_peak_rss_kib is not None
    assert large.hub_peak_rss_kib is not None
    growth = (large.hub_peak_rss_kib - small.hub_peak_rss_kib) / small.hub_peak_rss_kib
    per_million = (
        (large.hub_peak_rss_kib - small.hub_peak_rss_kib)
        / 1024
        / (large.inputs_total - small.inputs_total)
        * 1e6
    )
    return [
        f"hub peak RSS: {_mib(small.hub_peak_rss_kib)} MiB after {small.inputs_total:,} inputs vs "
        f"{_mib(large.hub_peak_rss_kib)} MiB after {large.inputs_total:,} ({growth:+.1%}, "
        f"{per_million:+.1f} MiB per million inputs)"
    ]


def write_results(
    started: dt.datetime, args: argparse.Namespace, results: list[SizeResult]
) -> Path:
    """Everything measured, as JSON under ``bench/results/``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"flows-{started:%Y-%m-%d-%H%M%S}.json"

    def phase(p: Phase) -> dict[str, Any]:
        row = {k: v for k, v in asdict(p).items() if k != "latencies_ms"}
        return {
            **row,
            "per_second": p.per_second,
            "p50_ms": p.percentile(0.5),
            "p99_ms": p.percentile(0.99),
        }

    document = {
        "benchmark": "flows",
        "started": started.isoformat(timespec="seconds"),
        "git": _git_revision(),
        "machine": _machine(),
        "options": vars(args),
        "sizes": [
            {
                **{k: v for k, v in asdict(size).items() if k != "flows"},
                "flows": [
                    {
                        "flow": f.flow.name,
                        "description": f.flow.description,
                        "ratio": f.ratio,
                        "burst": {side: phase(p) for side, p in f.burst.items()},
                        "paced": {side: phase(p) for side, p in f.paced.items()},
                    }
                    for f in size.flows
                ],
            }
            for size in results
        ],
        "hub_peak_rss_flatness": _flatness(results),
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


# -- profiles ---------------------------------------------------------------------------------

_FRAME: Final = re.compile(r"^(?P<function>.*?) \((?P<file>.*?)(?::\d+)?\)$")
#: Leaf frames of a thread that waits (py-spy counts some of them as active).
_IDLE: Final = ("_worker (concurrent/futures/thread.py)", "Condition.wait (threading.py)")
#: The hub's own code, less the command line that every stack passes through.
_OURS: Final = ("hub/", "connectors/", "schemas/")
_NOT_OURS: Final = ("hub/cli/", "hub/__main__.py")


def _frame_name(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for root in ("site-packages/", f"{REPO.name}/", "python3.11/"):
        path = path.split(root, 1)[-1]
    return f"{match['function']} ({path})"


def hot_spots(path: Path, top: int = 12) -> dict[str, list[tuple[str, float]]]:
    """The hottest functions of a py-spy ``raw`` profile, waiting threads left out: by self
    time, and by inclusive time among the hub's own functions (shares of the samples)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame_name(frame) for frame in stack.split(";")]
        if frames[-1].endswith(_IDLE) or "select (selectors.py)" in frames[-1]:
            continue
        count = int(count_text)
        total += count
        for name in set(frames):
            inclusive[name] += count
        own[frames[-1]] += count
    if not total:
        return {"self": [], "inclusive": []}
    ours = [
        (name, count)
        for name, count in inclusive.most_common()
        if name.rpartition("(")[2].startswith(_OURS)
        and not name.rpartition("(")[2].startswith(_NOT_OURS)
    ]
    return {
        "self": [(name, count / total) for name, count in own.most_common(top)],
        "inclusive": [(name, count / total) for name, count in ours[:top]],
    }


def main() -> None:
    """Parse the options, measure every size, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.flows", description=_SUMMARY)
    add_sizes_option(parser, DEFAULT_SIZES, "messages per flow in the burst")
    parser.add_argument(
        "--flows",
        type=lambda t: t.split(","),
        default=None,
        help="only these flows (comma-separated)",
    )
    parser.add_argument(
        "--latency-count",
        type=int,
        default=500,
        help="paced messages per flow and side (default 500)",
    )
    parser.add_argument(
        "--latency-rate", type=float, default=50.0, help="paced messages per second (default 50)"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="unmeasured messages first (default 50)"
    )
    parser.add_argument(
        "--tmp-dir", type=Path, default=None, help="where the hub's data goes (default TMPDIR)"
    )
    parser.add_argument(
        "--hub-batch",
        type=int,
        default=100,
        help="HUB_ROUTE_BATCH of the hub (default 100, as the hub's own)",
    )
    parser.add_argument(
        "--hub-log-level", default="info", help="HUB_LOG_LEVEL of the hub (default info, as hub up)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy record the hub during each burst"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the hub's data and logs (printed at the end) to look into a run",
    )
    args = parser.parse_args()

    started = dt.datetime.now(dt.UTC).astimezone()
    results = []
    with contextlib.ExitStack() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="bench-flows-", dir=args.tmp_dir))
        if not args.keep:
            cleanup.callback(shutil.rmtree, work, ignore_errors=True)
        for size in args.sizes:
            results.append(measure_size(size, args, work))
        if args.profile:
            for size in results:
                kept = []
                for profile in size.profiles:
                    source = Path(profile)
                    if source.exists():
                        target = RESULTS / f"{started:%Y-%m-%d-%H%M%S}-{source.name}"
                        shutil.copy(source, target)
                        kept.append(str(target.relative_to(REPO)))
                        for kind, rows in hot_spots(source).items():
                            print(f"\nhot spots of {source.name}, {kind} time:")
                            for name, share in rows:
                                print(f"  {share:6.1%}  {name}")
                size.profiles = kept
    print_table(results, args)
    path = write_results(started, args, results)
    print(f"\nresults: {path.relative_to(REPO)}")
    if args.keep:
        print(f"hub data and logs: {work}")


if __name__ == "__main__":
    main()
