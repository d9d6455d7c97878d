"""The hub's exceptions, drawn once.

    HubError
    ├── ConfigurationError        settings or a configuration file is invalid (start-up stops)
    │   └── KafkaRefusedError     Kafka answered, but not to the client as configured
    │       ├── KafkaAuthenticationError    the SASL credentials
    │       ├── KafkaSaslMechanismError     a SASL mechanism the listener does not enable
    │       ├── KafkaSecurityProtocolError  TLS or SASL where the listener expects otherwise
    │       ├── KafkaTlsError               the TLS handshake (certificate, CA file)
    │       ├── KafkaIdempotenceRefusedError  InitProducerId of an idempotent producer
    │       └── KafkaAuthorizationError     an operation the ACLs do not allow
    ├── LocalBrokerError          the local Apache Kafka could not be fetched, started or kept
    └── TransientError            worth retrying: the surroundings, not the message, failed
        └── BrokerUnavailableError    the bootstrap servers could not be reached

Messages of these exceptions never contain a personal identity code nor a password: they end
up in logs, dead-letter headers and CLI output. Expected failures of partner input are modelled
as data (``schemas.rejection.Rejection``, dead-lettered by the routing layer), never raised:
there is no exception class for them. These classes are for what is not expected.

Every class here is raised somewhere in ``hub`` or ``connectors``; a category that is never
raised itself (``TransientError``) is caught where it decides something: a route treats a
``TransientError`` as a failure of its surroundings, never as a reason to give up a message
(``hub.routing.route_failures.is_environmental``). ``tests/unit/hub/core/test_error_tree.py`` keeps
it so.
"""

from __future__ import annotations

__all__ = [
    "BrokerUnavailableError",
    "ConfigurationError",
    "HubError",
    "KafkaAuthenticationError",
    "KafkaAuthorizationError",
    "KafkaIdempotenceRefusedError",
    "KafkaRefusedError",
    "KafkaSaslMechanismError",
    "KafkaSecurityProtocolError",
    "KafkaTlsError",
    "LocalBrokerError",
    "TransientError",
]


class HubError(Exception):
    """Base class of every error the hub raises on purpose; ``exit_code`` is the CLI's."""

    exit_code: int = 1


class ConfigurationError(HubError):
    """A setting or a configuration file is invalid; the message names it."""

    exit_code = 2


class KafkaRefusedError(ConfigurationError):
    """Kafka answered, but refused the client as configured, or speaks another protocol on
    that port: retrying cannot help, a setting (named in the message) or the cluster must
    change."""

    def __init__(self, bootstrap: str, message: str) -> None:
        super().__init__(message)
        self.bootstrap = bootstrap


class KafkaAuthenticationError(KafkaRefusedError):
    """Kafka refused the SASL login: a wrong user name, password or mechanism, not a network
    problem. Names the user (never the password)."""

    def __init__(self, bootstrap: str, mechanism: str, username: str) -> None:
        super().__init__(
            bootstrap,
            f"Kafka at {bootstrap} refused the {mechanism} login of user {username!r}: check "
            "HUB_KAFKA_SASL_USERNAME, HUB_KAFKA_SASL_PASSWORD and HUB_KAFKA_SASL_MECHANISM",
        )


class KafkaSaslMechanismError(KafkaRefusedError):
    """The listener does not enable the configured SASL mechanism."""

    def __init__(self, bootstrap: str, mechanism: str, enabled: tuple[str, ...]) -> None:
        offered = ", ".join(enabled) if enabled else "none it would name"
        super().__init__(
            bootstrap,
            f"Kafka at {bootstrap} does not enable the SASL mechanism {mechanism} (it offers "
            f"{offered}): set HUB_KAFKA_SASL_MECHANISM to one it offers",
        )
        self.enabled = enabled


class KafkaSecurityProtocolError(KafkaRefusedError):
    """The listener speaks another security protocol than ``HUB_KAFKA_SECURITY_PROTOCOL``
    (TLS or not, SASL or not)."""

    def __init__(self, bootstrap: str, protocol: str, found: str, advice: str) -> None:
        super().__init__(
            bootstrap,
            f"Kafka at {bootstrap} {found}, but HUB_KAFKA_SECURITY_PROTOCOL is {protocol}: "
            f"{advice}",
        )


class KafkaTlsError(KafkaRefusedError):
    """The TLS handshake with Kafka failed: an untrusted or mismatched certificate, or a
    client certificate the broker wants or refuses."""


class KafkaIdempotenceRefusedError(KafkaRefusedError):
    """Kafka refused the ``InitProducerId`` request an idempotent producer starts with."""

    def __init__(self, bootstrap: str, error: str, advice: str) -> None:
        super().__init__(
            bootstrap,
            f"Kafka at {bootstrap} refused an idempotent producer (InitProducerId: {error}): "
            f"{advice}",
        )
        self.error = error


class KafkaAuthorizationError(KafkaRefusedError):
    """The cluster's ACLs do not allow what the hub asked for (reading, writing, describing)."""

    def __init__(self, bootstrap: str, who: str, action: str, error: str) -> None:
        super().__init__(
            bootstrap,
            f"Kafka at {bootstrap} does not allow {who} {action} ({error}): grant the ACLs "
            "`hub acls generate` prints for it (docs/operations.md, ACLs)",
        )
        self.error = error


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
