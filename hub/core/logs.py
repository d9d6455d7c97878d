"""Logging: structlog, JSON lines in production, readable console in development.

Every record, the hub's own and those of libraries logging through ``logging`` (aiokafka,
FastStream), passes the identity-code redaction processor after exceptions have been turned
into text, so neither a field nor a traceback can carry an identity code out.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Final

import structlog
from structlog.typing import Processor

from hub.core.library_noise import RepeatsRationed, demote_routine_library_lines
from hub.core.redaction import redact_identity_codes

__all__ = ["configure_logging", "get_logger"]

#: aiokafka loggers whose debug lines print whole requests and records: message keys and
#: values. An identity code sits there in raw bytes (``\x16131052-930V``) where the shape-based
#: mask cannot tell it from its neighbours, next to free text that may hold health information,
#: so they stay at INFO even when the hub logs at debug.
_PAYLOAD_LOGGERS: Final = ("aiokafka.conn", "aiokafka.producer.producer")

_LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_identity_codes,
    ]


def _route_library_loggers_through_root() -> None:
    """Libraries that install handlers of their own (FastStream does) would bypass redaction:
    take their handlers away and let their records propagate to the one redacting handler."""
    import faststream  # noqa: F401, PLC0415 - make sure its loggers exist before we look.

    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger) and logger.handlers:
            logger.handlers.clear()
            logger.propagate = True


def configure_logging(
    level: str = "info", log_format: str = "auto", *, quiet_clients: bool = False
) -> None:
    """Route structlog and stdlib logging through one redacting pipeline to stderr.

    ``quiet_clients`` silences the Kafka client's own connection errors below debug level:
    an ad-hoc command reports them as its one error line instead.
    """
    if log_format == "auto":
        log_format = "console" if sys.stderr.isatty() else "json"
    renderer: Processor
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RepeatsRationed())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    _route_library_loggers_through_root()
    demote_routine_library_lines()
    # aiokafka is chatty at INFO about group coordination; keep it for debug runs.
    client_level = logging.CRITICAL if quiet_clients else logging.WARNING
    aiokafka_level = logging.DEBUG if level == "debug" else max(_LEVELS[level], client_level)
    logging.getLogger("aiokafka").setLevel(aiokafka_level)
    for name in _PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(aiokafka_level, logging.INFO))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def get_logger(name: str, **initial: Any) -> structlog.stdlib.BoundLogger:
    """A logger bound to ``name`` (and optional initial fields)."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name, **initial)
    return logger
