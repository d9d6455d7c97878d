"""``python -m bench.fuzz``: the fuzz tests of ``tests/fuzz`` with 10,000 inputs per test.

The same tests ``make test`` runs with a moderate count (hypothesis profile
``hub-fuzz-suite``) run here under the profile ``hub-fuzz``: pytest in this process, so the
tests' tally (``tests.fuzz.outcomes``) can be read afterwards. Every parser has two to five
tests (arbitrary bytes, structure-aware inputs of one to three kinds, byte-level mutations of
the examples), so each parser gets two to five times ``--examples`` inputs: at least 10,000 by
default.

Prints one row per parser: the tests that fed it, the inputs it answered, how many distinct
outcomes (accepted, or each rejection reason) it gave, how many inputs raised (must be 0), and
the seconds its tests took, generation included. Then each parser's outcomes with their
counts, and the seed: ``--seed`` with the same number repeats the run. Exits 1 if any test
failed (an input raised, or an answer broke a property), 0 otherwise. Nothing asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Final

import pytest

from tests.fuzz import outcomes
from tests.fuzz.budget import EXAMPLES_VARIABLE, FUZZ, PROFILE_VARIABLE, TARGET_EXAMPLES

REPO: Final = Path(__file__).resolve().parent.parent
FUZZ_TESTS: Final = REPO / "tests" / "fuzz"
_COLUMNS: Final = ("parser", "tests", "inputs", "outcomes", "unhandled", "seconds")


class _TestTimes:
    """pytest plugin: how long each test's call took, and which tests failed."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] += report.duration
        if report.failed:
            self.failed.append(report.nodeid)


def _rows(times: _TestTimes) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for parser in sorted(outcomes.TALLY):
        seen = outcomes.TALLY[parser]
        tests = outcomes.TESTS_BY_PARSER[parser]
        unhandled = sum(n for label, n in seen.items() if label.startswith(outcomes.UNHANDLED))
        rows.append(
            (
                parser,
                str(len(tests)),
                f"{sum(seen.values()):,}",
                str(len(seen)),
                str(unhandled),
                f"{sum(times.seconds[test] for test in tests):.1f}",
            )
        )
    return rows


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    for index, row in enumerate([_COLUMNS, *rows]):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        print(" | ".join(cells))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def _print_outcomes() -> None:
    for parser in sorted(outcomes.TALLY):
        print(f"\n{parser}:")
        for label, count in sorted(outcomes.TALLY[parser].items(), key=lambda item: -item[1]):
            print(f"  {count:>8,}  {label}")


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz tests at the target's budget and print what they saw."""
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument(
        "--examples",
        type=int,
        default=TARGET_EXAMPLES,
        help=f"inputs per test (default {TARGET_EXAMPLES:,})",
    )
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: a random one)")
    parser.add_argument("-k", dest="keyword", help="only the tests pytest -k selects")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    # Read when the test modules are imported, which pytest.main below does.
    os.environ[PROFILE_VARIABLE] = FUZZ
    os.environ[EXAMPLES_VARIABLE] = str(args.examples)
    print(f"fuzzing with seed {seed}, {args.examples:,} inputs per test", file=sys.stderr)
    pytest_args = [str(FUZZ_TESTS), "-q", "-p", "no:cacheprovider", f"--hypothesis-seed={seed}"]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    times = _TestTimes()
    started = time.perf_counter()
    exit_code = pytest.main(pytest_args, plugins=[times])
    print()
    _print_table(_rows(times))
    _print_outcomes()
    print(f"\nseed {seed} (repeat with --seed {seed}); {time.perf_counter() - started:.0f} s")
    if times.failed:
        print(f"FAILED: {', '.join(times.failed)}")
    return 0 if exit_code == pytest.ExitCode.OK else 1


if __name__ == "__main__":
    sys.exit(main())
