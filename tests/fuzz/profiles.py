"""The hypothesis settings of the fuzz tests: one profile per budget (``tests.fuzz.budget``).

The same tests run in two budgets. ``make test`` uses ``hub-fuzz-suite`` (a moderate count, so
the folder takes seconds); ``python -m bench.fuzz`` (``make fuzz``) sets
``HUB_FUZZ_PROFILE=hub-fuzz`` for at least 10,000 inputs per test, and may lower or raise that
with ``HUB_FUZZ_EXAMPLES``. Both are read when a test module applies ``fuzz_settings()``, so
the fuzz target can set them just before it runs the tests in its own process. Only the tests
that apply it are affected: the profile is not loaded globally, so the rest of the suite keeps
its own settings.

No deadline (a 100 kB string or a deep nesting takes its time, and a timed assertion would be
flaky on a busy machine) and no health checks about slow or large generation: hostile inputs
are large and slow to make on purpose.
"""

from __future__ import annotations

import os
from typing import Final

from hypothesis import HealthCheck, settings

from tests.fuzz.budget import (
    EXAMPLES_VARIABLE,
    FUZZ,
    PROFILE_VARIABLE,
    SUITE,
    SUITE_EXAMPLES,
    TARGET_EXAMPLES,
)

__all__ = ["fuzz_settings"]

_HOSTILE_INPUTS_ARE_SLOW: Final = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]

settings.register_profile(
    SUITE,
    max_examples=SUITE_EXAMPLES,
    deadline=None,
    suppress_health_check=_HOSTILE_INPUTS_ARE_SLOW,
)


def fuzz_settings() -> settings:
    """The settings of the profile ``HUB_FUZZ_PROFILE`` names (the suite's by default)."""
    settings.register_profile(
        FUZZ,
        parent=settings.get_profile(SUITE),
        max_examples=int(os.environ.get(EXAMPLES_VARIABLE, TARGET_EXAMPLES)),
        # Ten thousand inputs per test would fill the example database with noise.
        database=None,
    )
    return settings.get_profile(os.environ.get(PROFILE_VARIABLE, SUITE))
