"""The hub's exceptions, drawn once.

    HubError
    ├── ConfigurationError        settings or a configuration file is invalid (start-up stops)
    │   └── KafkaAuthenticationError  Kafka refused the configured SASL credentials
    ├── LocalBrokerError          the local Apache Kafka could not be fetched, started or kept
    ├── TransientError            worth retrying (tenacity): broker away, timeouts
    │   └── BrokerUnavailableError
    └── PermanentError            retrying cannot help: the message is dead-lettered
        └── RejectedMessageError  partner bytes that do not parse, validate or route

Messages of these exceptions never contain a personal identity code: they end up in logs,
dead-letter headers and CLI output. Expected failures of partner input are modelled as data
(``schemas.rejection.Rejection``); these classes are for what is not expected.
"""

from __future__ import annotations

__all__ = [
    "BrokerUnavailableError",
    "ConfigurationError",
    "HubError",
    "KafkaAuthenticationError",
    "LocalBrokerError",
    "PermanentError",
    "RejectedMessageError",
    "TransientError",
]


class HubError(Exception):
    """Base class of every error the hub raises on purpose; ``exit_code`` is the CLI's."""

    exit_code: int = 1


class ConfigurationError(HubError):
    """A setting or a configuration file is invalid; the message names it."""

    exit_code = 2


class KafkaAuthenticationError(ConfigurationError):
    """Kafka refused the SASL login: a wrong user name, password or mechanism, not a network
    problem. Names the user (never the password)."""

    def __init__(self, bootstrap: str, mechanism: str, username: str) -> None:
        super().__init__(
            f"Kafka at {bootstrap} refused the {mechanism} login of user {username!r}: check "
            "HUB_KAFKA_SASL_USERNAME, HUB_KAFKA_SASL_PASSWORD and HUB_KAFKA_SASL_MECHANISM"
        )
        self.bootstrap = bootstrap


class LocalBrokerError(HubError):
    """The local broker (``hub up`` without a configured cluster) could not be fetched or
    started, or died."""


class TransientError(HubError):
    """A failure that may go away when retried (broker away, timeout)."""


class BrokerUnavailableError(TransientError):
    """The Kafka bootstrap servers could not be reached."""

    def __init__(self, bootstrap: str, detail: str) -> None:
        super().__init__(f"Kafka at {bootstrap} is not reachable: {detail}")
        self.bootstrap = bootstrap


class PermanentError(HubError):
    """A failure that retrying cannot fix; the message goes to the dead-letter topic."""


class RejectedMessageError(PermanentError):
    """A consumed message was rejected; carries where it came from and why."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        topic: str,
        partition: int,
        offset: int,
        connector: str,
    ) -> None:
        super().__init__(f"{reason}: {detail} ({topic}[{partition}]@{offset}, {connector})")
        self.reason = reason
        self.detail = detail
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.connector = connector
