"""FastStream's routine lines, demoted to debug: an operator's log shows what needs attention.

The hub provisions every topic itself (``hub topics provision``, and ``hub up`` at start), so
FastStream's warning that it will not create them is expected once per subscriber; which
partitions a consumer got is one very long line per consumer per rebalance, and what the
metrics and ``hub up``'s own "hub up" line already say; the supervisor's "callback for
Task-… is being executed" is one line per subscriber when the hub stops. All three stay
available with ``HUB_LOG_LEVEL=debug``.
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["FASTSTREAM_LOGGER", "RoutineToDebug", "demote_routine_library_lines"]

#: The logger the hub hands FastStream (``hub.broker.faststream_broker``).
FASTSTREAM_LOGGER: Final = "hub.faststream"

_ROUTINE: Final = re.compile(
    r"Auto create topics is disabled\."
    r"|Consumer \S* ?assigned to partitions: "
    r"|callback for \S+ is being executed"
)


class RoutineToDebug(logging.Filter):
    """Rewrites FastStream's routine records to DEBUG, and drops them unless debug is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        """True to let ``record`` through (as DEBUG when it is routine)."""
        if record.levelno <= logging.DEBUG or _ROUTINE.match(record.getMessage()) is None:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def demote_routine_library_lines() -> None:
    """Install the filter on FastStream's logger once (configure_logging may run again)."""
    logger = logging.getLogger(FASTSTREAM_LOGGER)
    if not any(isinstance(f, RoutineToDebug) for f in logger.filters):
        logger.addFilter(RoutineToDebug())
