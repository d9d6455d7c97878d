"""How many inputs the fuzz tests generate, and the names that choose the budget.

Kept apart from ``tests.fuzz.profiles`` (which registers the hypothesis profiles) so that the
fuzz target can read these names without importing hypothesis before pytest starts: pytest
rewrites the asserts of its plugins, hypothesis among them, only if it imports them first.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EXAMPLES_VARIABLE",
    "FUZZ",
    "PROFILE_VARIABLE",
    "SUITE",
    "SUITE_EXAMPLES",
    "TARGET_EXAMPLES",
]

#: The hypothesis profile of ``make test``, and the one of ``python -m bench.fuzz``.
SUITE: Final = "hub-fuzz-suite"
FUZZ: Final = "hub-fuzz"

#: Names the profile to use (``SUITE`` when unset).
PROFILE_VARIABLE: Final = "HUB_FUZZ_PROFILE"
#: Overrides ``TARGET_EXAMPLES`` in the ``FUZZ`` profile.
EXAMPLES_VARIABLE: Final = "HUB_FUZZ_EXAMPLES"

#: Inputs per test in the normal suite; each parser has two to five tests (200-500 inputs).
SUITE_EXAMPLES: Final = 100
#: Inputs per test in the fuzz target (the issue asks for at least 10,000 per parser).
TARGET_EXAMPLES: Final = 10_000
