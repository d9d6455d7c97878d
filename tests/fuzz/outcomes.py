"""What the fuzz tests saw, per parser: the tally ``python -m bench.fuzz`` prints.

Every generated input goes through ``answer``, which calls the parser, counts the outcome
(``accepted``, ``rejected <reason>``, ``refused <reason>``) and counts an exception as
``unhandled <type>`` before letting it fail the test. The tally lives in this module for the
whole process, so the fuzz target can run the tests with pytest in-process and read it
afterwards; in the normal suite nobody reads it.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Final, TypeVar

__all__ = ["TALLY", "TESTS_BY_PARSER", "UNHANDLED", "answer", "observe"]

UNHANDLED: Final = "unhandled"

#: parser → outcome label → how many inputs had it.
TALLY: Final[defaultdict[str, Counter[str]]] = defaultdict(Counter)
#: parser → the pytest node ids of the tests that fed it (to add up their durations).
TESTS_BY_PARSER: Final[defaultdict[str, set[str]]] = defaultdict(set)

T = TypeVar("T")


def _current_test() -> str:
    # pytest sets it to "<node id> (<phase>)" while a test runs.
    return os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0]


def observe(parser: str, outcome: str) -> None:
    """Count one input of ``parser`` with ``outcome``."""
    TALLY[parser][outcome] += 1
    TESTS_BY_PARSER[parser].add(_current_test())


def answer(parser: str, call: Callable[[], T], label: Callable[[T], str]) -> T:
    """``call()``, counted under ``parser`` by ``label`` of its result; exceptions counted and
    raised."""
    try:
        result = call()
    except Exception as exc:
        observe(parser, f"{UNHANDLED} {type(exc).__name__}")
        raise
    observe(parser, label(result))
    return result
