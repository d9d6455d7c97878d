"""FastStream's routine lines, demoted to debug: an operator's log shows what needs attention.

The hub provisions every topic itself (``hub topics provision``, and ``hub up`` at start), so
FastStream's warning that it will not create them is expected once per subscriber; which
partitions a consumer got is one very long line per consumer per rebalance, and what the
metrics and ``hub up``'s own "hub up" line already say; the supervisor's "callback for
Task-… is being executed" is one line per subscriber when the hub stops. All three stay
available with ``HUB_LOG_LEVEL=debug``.

The Kafka client's own warnings and errors repeat: while a broker is away, each of the hub's
thirty-odd clients logs every failed connection, metadata refresh and fetch, some fifty
thousand lines a minute that say one thing the hub's own "Kafka unreachable" line already
says. Each kind of line (its logger and its wording before the values) is shown once per
30 s; the next one shown says how many like it were left out meanwhile. With
``HUB_LOG_LEVEL=debug`` every one is shown.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Final

__all__ = [
    "FASTSTREAM_LOGGER",
    "RATION_WINDOW_S",
    "RepeatsRationed",
    "RoutineToDebug",
    "demote_routine_library_lines",
]

#: The logger the hub hands FastStream (``hub.broker.faststream_broker``).
FASTSTREAM_LOGGER: Final = "hub.faststream"

_ROUTINE: Final = re.compile(
    r"Auto create topics is disabled\."
    r"|Consumer \S* ?assigned to partitions: "
    r"|callback for \S+ is being executed"
)


#: A kind of Kafka client line is shown at most once per this many seconds.
RATION_WINDOW_S: Final = 30.0
_CLIENT_LOGGER: Final = "aiokafka"
#: Kinds remembered at most: some lines carry their values in their wording (a group's
#: name), so kinds are bounded by the hub's groups; past this, forget and start afresh.
_MAX_KINDS: Final = 1024


class RepeatsRationed(logging.Filter):
    """Lets each kind of Kafka client line through once per ``window_s`` (see the module
    docstring); the hub's own lines and other libraries' pass untouched."""

    def __init__(
        self, window_s: float = RATION_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._window_s = window_s
        self._clock = clock
        #: Per kind: when it was last shown, and how many were left out since.
        self._kinds: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """True to let ``record`` through (saying how many like it were left out)."""
        name = record.name
        if not (name == _CLIENT_LOGGER or name.startswith(_CLIENT_LOGGER + ".")):
            return True
        if logging.getLogger(_CLIENT_LOGGER).isEnabledFor(logging.DEBUG):
            return True
        kind = (name, str(record.msg))
        now = self._clock()
        shown = self._kinds.get(kind)
        if shown is not None and now - shown[0] < self._window_s:
            self._kinds[kind] = (shown[0], shown[1] + 1)
            return False
        if len(self._kinds) >= _MAX_KINDS:
            self._kinds.clear()
        self._kinds[kind] = (now, 0)
        if shown is not None and shown[1]:
            record.msg = (
                f"{record.getMessage()} ({shown[1]} more like this in the last "
                f"{now - shown[0]:.0f} s, not shown)"
            )
            record.args = ()
        return True


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
