"""``python -m bench.share``: a month's statement and a reconciliation against ``csv``, same run.

For each size (100,000 and 1,000,000 unless ``--sizes`` says otherwise) a share ledger of that
many payment-day records of one month is written straight into a fresh data directory
(``share-ledger.sqlite3``: Lahti residents, about 40,000 persons, counters spread over every
step so that each record gives exactly one invoice line), and Kela's invoice specification of
that month is generated from the hub's own split, with one line in a thousand off by a few
cents so the difference path runs too. Then, each in a fresh child process:

1. ``csv baseline``: ``python -m bench.csv_baseline INVOICE`` reads the invoice file with
   ``csv.reader`` and touches every field;
2. ``statement``: ``python -m hub share statement --month 2025-04 --format csv``;
3. ``reconcile``: ``python -m hub share reconcile INVOICE`` (exit 3: the planted differences).

Wall time covers the whole child, interpreter start-up included; peak RSS is the child's
``VmHWM`` (see ``bench.__main__.HighWater``). Results go to stdout as a table, and to
``bench/results/share-<date>-<time>.json``. Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sqlite3
import sys
import tempfile
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final

from bench.__main__ import RESULTS, hub_env, run_child
from hub.share.invoice import COLUMNS
from hub.share.ledger import SQLITE_FILE, ShareLedger
from hub.share.rules import load_rules
from hub.share.split import ShareRecord, split
from schemas.person_ref import person_ref_for

DEFAULT_SIZES: Final = (100_000, 1_000_000)
_SECRET: Final = "bench-pseudonym-secret-0123456789abcdefgh"  # noqa: S105 - test data.
_CHECK: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_PERSONS: Final = 40_000
_MONTH: Final = "2025-04"
_BANDS: Final = ((101, 200), (201, 300), (301, 400), (401, 1200))


@dataclass
class Run:
    """One child process measured."""

    size: int
    name: str
    seconds: float
    cpu_seconds: float
    peak_rss_kib: int
    exit_code: int


def _identity_code(person: int) -> str:
    """A valid identity code with an individual number 900-999 (test data only)."""
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=person % 15_000)
    individual = 900 + person % 100
    digits = f"{birth:%d%m%y}{individual:03d}"
    century = "-" if birth.year < 2000 else "A"
    return f"{birth:%d%m%y}{century}{individual:03d}{_CHECK[int(digits) % 31]}"


def generate(size: int, data_dir: Path, invoice: Path) -> None:
    """A ledger of ``size`` records in ``data_dir`` and their invoice file at ``invoice``."""
    rules = load_rules()
    randomness = random.Random(size)  # noqa: S311 - reproducible data, not secrets.
    secret = _SECRET.encode()
    codes = [_identity_code(n) for n in range(_PERSONS)]
    refs = [person_ref_for(code, secret) for code in codes]
    db = sqlite3.connect(data_dir / SQLITE_FILE)
    ShareLedger(db, postgres=False, name="bench").commit()  # creates the schema
    db.execute("BEGIN")
    with invoice.open("w", encoding="utf-8", newline="") as handle:
        handle.write("\ufeff" + ";".join(COLUMNS) + "\r\n")
        for number in range(size):
            person = number % _PERSONS
            days = randomness.randint(5, 22)
            low, high = randomness.choice(_BANDS)
            counter = randomness.randint(low + days - 1, high)
            per_day = Decimal(randomness.randint(2500, 3721)) / 100
            benefit = randomness.choice(("TMT", "TMT", "PPR", "APR"))
            paid = per_day * days
            day = randomness.randint(1, 28)
            record = ShareRecord(
                record_id=f"K2025-{number:09d}",
                person_ref=refs[person],
                municipality="398",
                benefit=benefit,
                period_start=dt.date(2025, 3, 1),
                period_end=dt.date(2025, 3, 28),
                paid_days=days,
                amount_paid=paid,
                cumulative_days=counter,
                payment_date=dt.date(2025, 4, day),
            )
            db.execute(
                "INSERT INTO share_records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.record_id,
                    f"kela.benefit-day:{record.record_id}",
                    record.person_ref,
                    codes[person],
                    "398",
                    benefit,
                    "2025-03-01",
                    "2025-03-28",
                    days,
                    str(paid),
                    counter,
                    record.payment_date.isoformat(),
                    _MONTH,
                    None,
                ),
            )
            for line in split(record, rules):
                share = line.share + (Decimal("0.05") if number % 1000 == 999 else 0)
                cells = (
                    _MONTH, "398", line.invoice.value, codes[person], record.record_id,
                    benefit, str(line.days), str(line.percent), str(share).replace(".", ","),
                    line.model.value,
                )  # fmt: skip
                handle.write(";".join(cells) + "\r\n")
    db.execute("COMMIT")
    db.close()


def _measure(size: int, name: str, argv: list[str], data_dir: Path, logs: Path) -> Run:
    env = hub_env(data_dir, HUB_PSEUDONYM_SECRET=_SECRET)
    child = run_child(argv, env, logs, f"{size}-{name}")
    if child.exit_code not in (0, 3):
        print(f"NOTE {name} at {size}: exit {child.exit_code}: {child.stderr[-300:]}")
    return Run(size, name, child.seconds, child.cpu_seconds, child.peak_rss_kib, child.exit_code)


def measure(size: int, work: Path) -> list[Run]:
    """Generate the data of ``size``, then the three measurements."""
    data_dir = work / f"{size}-data"
    data_dir.mkdir(parents=True)
    invoice = work / f"{size}-invoice.csv"
    print(f"generating {size:,} records and their invoice file", file=sys.stderr, flush=True)
    generate(size, data_dir, invoice)
    logs = work / "logs"
    python = sys.executable
    return [
        _measure(size, "csv baseline", [python, "-m", "bench.csv_baseline", str(invoice)],
                 data_dir, logs),
        _measure(size, "statement", [python, "-m", "hub", "share", "statement", "--month",
                                     _MONTH, "--format", "csv"], data_dir, logs),
        _measure(size, "reconcile", [python, "-m", "hub", "share", "reconcile", str(invoice),
                                     "--out", str(work / f"{size}-differences.csv")],
                 data_dir, logs),
    ]  # fmt: skip


def print_table(runs: list[Run]) -> None:
    """Seconds, peak RSS and the ratios to the ``csv`` baseline of the same size."""
    print(f"{'size':>10} {'measurement':<13} {'seconds':>8} {'x csv':>6} {'CPU s':>7} "
          f"{'peak RSS MiB':>13} {'x csv':>6} {'exit':>4}")  # fmt: skip
    baseline = {r.size: r for r in runs if r.name == "csv baseline"}
    for run in runs:
        base = baseline[run.size]
        print(
            f"{run.size:>10,} {run.name:<13} {run.seconds:>8.1f} "
            f"{run.seconds / base.seconds:>6.1f} {run.cpu_seconds:>7.1f} "
            f"{run.peak_rss_kib / 1024:>13.1f} {run.peak_rss_kib / base.peak_rss_kib:>6.2f} "
            f"{run.exit_code:>4}"
        )
    sizes = sorted(baseline)
    if len(sizes) > 1:
        for name in ("statement", "reconcile"):
            first, last = (
                next(r for r in runs if r.size == s and r.name == name)
                for s in (sizes[0], sizes[-1])
            )
            print(
                f"{name}: peak RSS {first.peak_rss_kib / 1024:.1f} MiB at {sizes[0]:,} -> "
                f"{last.peak_rss_kib / 1024:.1f} MiB at {sizes[-1]:,} "
                f"({last.peak_rss_kib / first.peak_rss_kib - 1:+.0%})"
            )


def main() -> None:
    """``python -m bench.share [--sizes 100000,1000000] [--tmp-dir DIR]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--tmp-dir", type=Path, default=None)
    arguments = parser.parse_args()
    sizes = [int(part.replace("_", "")) for part in arguments.sizes.split(",") if part]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-share-", dir=arguments.tmp_dir) as work:
        for size in sizes:
            runs.extend(measure(size, Path(work)))
    print_table(runs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"share-{stamp}.json").write_text(
        json.dumps(
            {"machine": platform.platform(), "runs": [asdict(run) for run in runs]}, indent=2
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
