"""``python -m bench.scale``: the partner flows through two ``hub up`` processes against one.

One single-node Apache Kafka (``hub.broker.local.LocalKafka``) and one PostgreSQL (Debian's
server binaries, as the tests start it: ``tests.postgres``) serve the whole run. Every topic
gets ``--partitions`` partitions, so that two instances can share each route's. Runs, one
after the other, on that broker (``--rounds``: one then two, then two then one, and so on):

* ``one``: one ``hub up`` (its own data directory, the audit store in a fresh PostgreSQL
  database);
* ``two``: two ``hub up`` processes in the same consumer groups, as docker/compose.yaml runs
  them: a data directory and an ``HUB_INSTANCE_ID`` each, one audit signing key, the audit
  store, the statistics store and the share ledger in one fresh PostgreSQL database.

For each flow (``bench.flow_data``; ``referral-status`` is left out by default, see
bench/README.md) each run produces a warm-up (not measured; every flow's before the first
burst) and then a burst of ``--size`` inputs as fast as possible; **msg/s** is the burst's
size ÷ the time from its first input produced to its last output received (``bench.flows``
measures it the same way). The two runs get inputs of their own (the same kinds, other ids).
The ratio **two ÷ one** is the figure; the hubs' CPU per message (all hub processes of the
run together) and each instance's share of that CPU (both must have worked) are printed
beside it.

A table goes to stdout, progress to stderr, everything to
``bench/results/scale-<date>-<time>.json`` (kept out of git). Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.__main__ import REPO, RESULTS, _git_revision, _machine, hub_env, signing_key
from bench.flow_data import FLOWS, Flow, Input, inputs_for
from bench.flows import Phase, _cpu_seconds, _run_phase, _start, _stop, _wait_for
from hub.broker.local import LocalKafka
from tests.postgres import PostgresServer, postgres_server

_SUMMARY: Final = "The partner flows through two hub processes against one, same broker, same run."
_SECRET: Final = "bench-pseudonym-secret-0123456789abcdefgh"  # noqa: S105 - test data.
_READY_PREFIX: Final = "export HUB_KAFKA_BOOTSTRAP="
DEFAULT_FLOWS: Final = ("kela-in", "client-status", "referral")
ONE: Final = "one"
TWO: Final = "two"


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Burst:
    """One flow's burst in one run."""

    flow: str
    run: str
    size: int
    received: int = 0
    seconds: float = 0.0
    #: CPU seconds of each hub process of the run during the burst.
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Outputs received per second."""
        return self.received / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_message(self) -> float | None:
        """All hub processes' CPU per output, in milliseconds."""
        return sum(self.cpu_seconds) * 1000 / self.received if self.received else None


@dataclass
class RunSetup:
    """What the runs share: the broker, PostgreSQL, options, the work folder."""

    bootstrap: str
    postgres: PostgresServer
    args: argparse.Namespace
    work: Path
    key: Path


def _provision(setup: RunSetup) -> None:
    env = hub_env(
        setup.work / "provision",
        HUB_KAFKA_BOOTSTRAP=setup.bootstrap,
        HUB_TOPIC_PARTITIONS=str(setup.args.partitions),
    )
    done = subprocess.run(
        [sys.executable, "-m", "hub", "topics", "provision"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"hub topics provision failed: {done.stderr.strip()}")


def _hub_envs(setup: RunSetup, run: str, count: int) -> list[dict[str, str]]:
    """The environment of each hub of a run: one PostgreSQL database for all its stores."""
    dsn = setup.postgres.new_database()
    return [
        hub_env(
            setup.work / f"{run}-data-{index}",
            HUB_KAFKA_BOOTSTRAP=setup.bootstrap,
            HUB_PSEUDONYM_SECRET=_SECRET,
            HUB_AUDIT_SIGNING_KEY_FILE=str(setup.key),
            HUB_AUDIT_DSN=dsn,
            HUB_STATISTICS_DSN=dsn,
            HUB_SHARE_DSN=dsn,
            HUB_TOPIC_PARTITIONS=str(setup.args.partitions),
            HUB_INSTANCE_ID=f"bench-{run}-{index}",
            HUB_KAFKA_CLIENT_ID=f"bench-{run}-{index}",
            HUB_LOG_LEVEL="info",
            HUB_ROUTE_BATCH=str(setup.args.hub_batch),
        )
        for index in range(1, count + 1)
    ]


async def _warm_up(setup: RunSetup, flow: Flow, run: str, inputs: list[Input], pid: int) -> None:
    """The unmeasured first inputs of one flow, through to their outputs."""
    warmup = setup.args.warmup
    await _run_phase(
        setup.bootstrap,
        flow.in_topic,
        flow.out_topics,
        inputs[:warmup],
        None,
        Phase(flow.name, run, warmup, warmup),
        pid,
    )


async def _burst(
    setup: RunSetup, flow: Flow, run: str, inputs: list[Input], pids: list[int]
) -> Burst:
    """The measured burst of one flow (the inputs after its warm-up)."""
    measured = inputs[setup.args.warmup :]
    phase = Phase(flow.name, run, len(measured), len(measured))
    before = [_cpu_seconds(pid) or 0.0 for pid in pids]
    await _run_phase(
        setup.bootstrap, flow.in_topic, flow.out_topics, measured, None, phase, pids[0]
    )
    after = [_cpu_seconds(pid) or 0.0 for pid in pids]
    return Burst(
        flow.name,
        run,
        len(measured),
        phase.received,
        phase.seconds,
        [b - a for a, b in zip(before, after, strict=True)],
    )


def measure_run(
    setup: RunSetup, run: str, label: str, inputs: dict[str, list[Input]]
) -> list[Burst]:
    """Start the hubs of ``run`` (one or two), send every flow's inputs through them, stop
    them; ``label`` names the run's folders."""
    count = 1 if run == ONE else 2
    logs = setup.work / f"logs-{label}"
    logs.mkdir()
    hubs: list[subprocess.Popen[bytes]] = []
    bursts = []
    try:
        for index, env in enumerate(_hub_envs(setup, label, count), start=1):
            label = f"hub-{index}"
            hub = _start([sys.executable, "-m", "hub", "up"], env, logs, label)
            hubs.append(hub)
            # One after the other: both would otherwise race to create the audit tables.
            _wait_for(hub, logs / f"{label}.out", _READY_PREFIX, 120)
        pids = [hub.pid for hub in hubs]
        flows = [flow for flow in FLOWS if flow.name in setup.args.flows]
        # Every flow warmed up before any is measured: the groups' first rebalances (the
        # second instance joining every route's group) fall outside the bursts.
        for flow in flows:
            asyncio.run(_warm_up(setup, flow, run, inputs[flow.name], pids[0]))
        for flow in flows:
            burst = asyncio.run(_burst(setup, flow, run, inputs[flow.name], pids))
            bursts.append(burst)
            shares = ", ".join(f"{c:.1f}" for c in burst.cpu_seconds)
            _log(
                f"[{run}] {flow.name}: {burst.per_second:,.0f} msg/s "
                f"({burst.received}/{burst.size} in {burst.seconds:.1f} s), CPU s per hub {shares}"
            )
    finally:
        for hub in hubs:
            _stop(hub)
    return bursts


def _inputs(flow: Flow, count: int) -> list[Input]:
    """``count`` inputs of ``flow``; for Kela, original records only: a correction handled by
    the instance whose ledger lacks the record it corrects is dead-lettered (bench/README.md,
    per-instance ledgers), and would leave its burst waiting for an output that never comes."""
    if flow.name != "kela-in":
        return inputs_for(flow, count)
    lines = inputs_for(flow, count + count // 10 + 100)
    originals = [line for line in lines if not line.value.rsplit(b";", 1)[-1].strip()]
    return originals[:count]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} {five:.1f} {fifteen:.1f}"


def print_table(bursts: list[Burst], loads: list[str]) -> None:
    """Per flow: one hub's and two hubs' throughput, their ratio, CPU per message."""
    header = (
        f"{'flow':<16} | {'1 hub msg/s':>11} | {'2 hubs msg/s':>12} | {'two/one':>7} | "
        f"{'1 hub CPU ms/msg':>16} | {'2 hubs CPU ms/msg':>17} | {'CPU share of each of 2':>22}"
    )
    print()
    print(
        f"burst per flow through one hub and through two hubs in the same consumer groups "
        f"(same broker, same run); {os.cpu_count()} cores, load average {' -> '.join(loads)}"
    )
    print(header)
    print("-" * len(header))
    by_flow: dict[str, dict[str, Burst]] = {}
    for burst in bursts:
        # Several rounds: one figure per flow and run, from their sums.
        runs = by_flow.setdefault(burst.flow, {})
        summed = runs.setdefault(burst.run, Burst(burst.flow, burst.run, 0))
        summed.size += burst.size
        summed.received += burst.received
        summed.seconds += burst.seconds
        summed.cpu_seconds = [
            a + b
            for a, b in itertools.zip_longest(summed.cpu_seconds, burst.cpu_seconds, fillvalue=0)
        ]
    for flow, runs in by_flow.items():
        one, two = runs.get(ONE), runs.get(TWO)
        if one is None or two is None:
            continue
        ratio = f"{two.per_second / one.per_second:.2f}" if one.per_second else "-"
        total = sum(two.cpu_seconds)
        shares = " / ".join(f"{c / total:.0%}" for c in two.cpu_seconds) if total else "-"
        print(
            f"{flow:<16} | {one.per_second:>11,.0f} | {two.per_second:>12,.0f} | {ratio:>7} | "
            f"{_ms(one.cpu_ms_per_message):>16} | {_ms(two.cpu_ms_per_message):>17} | "
            f"{shares:>22}"
        )
    totals = {
        run: (
            sum(b.received for b in bursts if b.run == run),
            sum(b.seconds for b in bursts if b.run == run),
        )
        for run in (ONE, TWO)
    }
    if all(seconds for _, seconds in totals.values()):
        one_rate, two_rate = (received / seconds for received, seconds in totals.values())
        print(
            f"{'all flows':<16} | {one_rate:>11,.0f} | {two_rate:>12,.0f} | "
            f"{two_rate / one_rate:>7.2f} |"
        )
    for burst in bursts:
        if burst.received != burst.size:
            print(
                f"NOTE {burst.run} {burst.flow}: {burst.received} of {burst.size} outputs arrived"
            )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def write_results(
    started: dt.datetime, args: argparse.Namespace, bursts: list[Burst], loads: list[str]
) -> Path:
    """Everything measured, as JSON under ``bench/results/``."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"scale-{started:%Y-%m-%d-%H%M%S}.json"
    document: dict[str, Any] = {
        "benchmark": "scale",
        "started": started.isoformat(timespec="seconds"),
        "git": _git_revision(),
        "machine": _machine(),
        "load_average": loads,
        "options": vars(args),
        "bursts": [
            {**vars(b), "per_second": b.per_second, "cpu_ms_per_message": b.cpu_ms_per_message}
            for b in bursts
        ],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def main() -> None:
    """Parse the options, run one hub then two, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=_SUMMARY)
    parser.add_argument(
        "--size", type=int, default=5000, help="inputs per flow in each burst (default 5000)"
    )
    parser.add_argument(
        "--flows",
        type=lambda t: t.split(","),
        default=list(DEFAULT_FLOWS),
        help=f"comma-separated flows (default {','.join(DEFAULT_FLOWS)})",
    )
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured inputs first")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="rounds: one hub then two, then two then one, ... (default 1)",
    )
    parser.add_argument(
        "--partitions", type=int, default=4, help="HUB_TOPIC_PARTITIONS of every topic (default 4)"
    )
    parser.add_argument("--hub-batch", type=int, default=100, help="HUB_ROUTE_BATCH (default 100)")
    parser.add_argument("--tmp-dir", type=Path, default=None, help="where the data goes")
    parser.add_argument("--keep", action="store_true", help="keep the hubs' data and logs")
    args = parser.parse_args()
    unknown = set(args.flows) - {flow.name for flow in FLOWS}
    if unknown:
        parser.error(f"unknown flows: {', '.join(sorted(unknown))}")

    started = dt.datetime.now(dt.UTC).astimezone()
    loads = [_load()]
    each = args.warmup + args.size
    # One, two, then (a second round) two, one, ...: a load that drifts during the benchmark
    # weighs on both alike.
    order = [
        (run, f"{run}-{round_ + 1}")
        for round_ in range(args.rounds)
        for run in ((ONE, TWO) if round_ % 2 == 0 else (TWO, ONE))
    ]
    # Every run gets inputs of its own.
    inputs = {
        flow.name: _inputs(flow, len(order) * each) for flow in FLOWS if flow.name in args.flows
    }
    with contextlib.ExitStack() as cleanup:
        work = Path(tempfile.mkdtemp(prefix="bench-scale-", dir=args.tmp_dir))
        if not args.keep:
            cleanup.callback(shutil.rmtree, work, ignore_errors=True)
        postgres = cleanup.enter_context(postgres_server())
        broker = LocalKafka(work / "kafka")
        bootstrap = broker.start()
        cleanup.callback(broker.stop)
        setup = RunSetup(bootstrap, postgres, args, work, signing_key(work / "audit.key"))
        _provision(setup)
        bursts = []
        for position, (run, label) in enumerate(order):
            part = {k: v[position * each : (position + 1) * each] for k, v in inputs.items()}
            bursts += measure_run(setup, run, label, part)
            loads.append(_load())
        if args.keep:
            _log(f"hub data and logs: {work}")
    print_table(bursts, loads)
    path = write_results(started, args, bursts, loads)
    print(f"\nresults: {path.relative_to(REPO)}")


if __name__ == "__main__":
    main()
