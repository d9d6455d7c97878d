"""Why a Kafka client did not start: nobody answers (worth retrying), or Kafka answers but
refuses the client as configured (not worth retrying; the error names the setting).

aiokafka reports every failure to bootstrap as one ``KafkaConnectionError("Unable to bootstrap
from …")``: a closed port, a certificate the CA file does not trust, a TLS client on a
plain-text listener, a refused SASL login all look alike. Retrying the last three for half a
minute and then saying "not reachable" sends an administrator to the network. So after a
failed bootstrap ``diagnose`` opens one connection of its own to the first bootstrap server,
with the same settings, and its exception tells which it is. A refusal that comes after the
bootstrap (an idempotent producer's ``InitProducerId``, an ACL) arrives as a specific aiokafka
exception and is mapped by ``start_refusal`` and ``operation_error``.

Nothing here puts a password into a message: they name settings, never their values.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from typing import Any, Final

from aiokafka.conn import AIOKafkaConnection, create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    BrokerResponseError,
    ClusterAuthorizationFailedError,
    DelegationTokenAuthorizationFailed,
    GroupAuthorizationFailedError,
    IllegalSaslStateError,
    IncompatibleBrokerVersion,
    KafkaConnectionError,
    KafkaError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.protocol.admin import SaslHandShakeRequest
from aiokafka.protocol.metadata import MetadataRequest

from hub.broker.connection import KafkaConnection, bootstrap_servers
from hub.core.errors import (
    BrokerUnavailableError,
    HubError,
    KafkaAuthenticationError,
    KafkaAuthorizationError,
    KafkaIdempotenceRefusedError,
    KafkaRefusedError,
    KafkaSaslMechanismError,
    KafkaSecurityProtocolError,
    KafkaTlsError,
)

__all__ = [
    "AUTHORIZATION_ERRORS",
    "diagnose",
    "first_server",
    "operation_error",
    "start_refusal",
]

#: What a refused login looks like. KeyError: aiokafka's SCRAM client when the server answers
#: the final SCRAM message with an error (``e=…``) instead of a signature.
_LOGIN_REFUSED: Final = (SaslAuthenticationFailed, AuthenticationFailedError, KeyError)

#: Every aiokafka error that means "the ACLs do not allow it"; a unit test fails when aiokafka
#: grows one that is not here.
AUTHORIZATION_ERRORS: Final[tuple[type[KafkaError], ...]] = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    ClusterAuthorizationFailedError,
    TransactionalIdAuthorizationFailed,
    DelegationTokenAuthorizationFailed,
)

_TLS: Final = frozenset({"SSL", "SASL_SSL"})
#: X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_NAME_MISMATCH: Final = frozenset({62, 64})


def first_server(bootstrap: str) -> tuple[str, int]:
    """Host and port of the first of the bootstrap servers (``[v6]:port`` too)."""
    host, _, port = bootstrap_servers(bootstrap)[0].rpartition(":")
    return host.strip("[]"), int(port)


def _who(connection: KafkaConnection) -> str:
    username = connection.settings.kafka_sasl_username
    if connection.settings.kafka_security_protocol.startswith("SASL_") and username:
        return f"user {username!r}"
    return "this client"


def start_refusal(
    connection: KafkaConnection, exc: BaseException, *, idempotent_producer: bool
) -> KafkaRefusedError | None:
    """The refusal behind an exception a client's start raised after its bootstrap, if any.

    An idempotent producer's start ends with ``InitProducerId``: any answer to it other than
    a producer id (a missing ACL, a broker that does not implement it and says
    ``UnknownError`` or ``UnsupportedVersion``) is a refusal retrying cannot change.
    """
    bootstrap = connection.bootstrap
    kind = type(exc).__name__
    if idempotent_producer and isinstance(exc, ClusterAuthorizationFailedError):
        return KafkaIdempotenceRefusedError(
            bootstrap,
            kind,
            f"{_who(connection)} needs WRITE on a topic or IDEMPOTENT_WRITE on the cluster "
            "(`hub acls generate`), or set HUB_KAFKA_IDEMPOTENCE=false",
        )
    if isinstance(exc, TransactionalIdAuthorizationFailed):
        return KafkaAuthorizationError(
            bootstrap, _who(connection), "to use the transactional ids hub.* of its routes", kind
        )
    if isinstance(exc, AUTHORIZATION_ERRORS):
        return KafkaAuthorizationError(bootstrap, _who(connection), "to start a client", kind)
    if idempotent_producer and isinstance(exc, BrokerResponseError | IncompatibleBrokerVersion):
        return KafkaIdempotenceRefusedError(
            bootstrap, kind, "set HUB_KAFKA_IDEMPOTENCE=false for a broker without it"
        )
    return None


def operation_error(connection: KafkaConnection, exc: KafkaError, action: str) -> HubError:
    """The hub's error for a Kafka error of a running client: an ACL refusal names the
    principal and what it tried (``action``, e.g. ``"to read topic x"``); anything else
    is the broker being away."""
    if isinstance(exc, AUTHORIZATION_ERRORS):
        return KafkaAuthorizationError(
            connection.bootstrap, _who(connection), action, type(exc).__name__
        )
    return BrokerUnavailableError(connection.bootstrap, type(exc).__name__)


async def _connect(
    host: str, port: int, kwargs: dict[str, Any], timeout_s: float
) -> AIOKafkaConnection:
    # create_conn bounds only its TCP/TLS connect by request_timeout_ms; the wait_for bounds
    # the version lookup and the SASL exchange as well.
    conn: AIOKafkaConnection = await asyncio.wait_for(
        create_conn(host, port, request_timeout_ms=int(timeout_s * 1000), **kwargs), timeout_s
    )
    return conn


async def _speaks_tls(host: str, port: int, timeout_s: float) -> bool:
    """Whether the port completes a TLS handshake, whoever's certificate it shows."""
    # Nothing is sent over this connection and it is closed at once: it only asks "is this
    # TLS?", so the certificate does not matter here (the real client checks it).
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context), timeout_s
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), timeout_s)
    return True


async def _answers_plaintext(host: str, port: int, timeout_s: float) -> bool:
    """Whether the port answers a Kafka ApiVersions request without TLS."""
    try:
        conn = await _connect(host, port, {"security_protocol": "PLAINTEXT"}, timeout_s)
    except (OSError, KafkaError, TimeoutError):
        return False
    conn.close()
    return True


async def _sasl_mechanisms(
    host: str, port: int, kwargs: dict[str, Any], mechanism: str, timeout_s: float
) -> tuple[str, ...] | None:
    """The SASL mechanisms the listener enables; ``None`` if it takes no SASL at all."""
    plain = {k: v for k, v in kwargs.items() if not k.startswith("sasl_")}
    plain["security_protocol"] = "SSL" if "ssl_context" in plain else "PLAINTEXT"
    try:
        conn = await _connect(host, port, plain, timeout_s)
    except (OSError, KafkaError, TimeoutError):
        return None
    try:
        response = await asyncio.wait_for(conn.send(SaslHandShakeRequest(mechanism)), timeout_s)
    except (OSError, KafkaError, TimeoutError):
        return None
    finally:
        conn.close()
    return tuple(str(m) for m in response.enabled_mechanisms)


def _unreachable_reason(exc: BaseException, timeout_s: float) -> str:
    """A few words on why nobody answered."""
    if isinstance(exc, socket.gaierror):
        return "its host name does not resolve"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, KafkaConnectionError):
        return "it closed the connection"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__


def _untrusted(connection: KafkaConnection, exc: ssl.SSLCertVerificationError) -> KafkaTlsError:
    bootstrap = connection.bootstrap
    detail = (exc.verify_message or exc.reason or "verification failed").rstrip(".")
    if exc.verify_code in _NAME_MISMATCH:
        return KafkaTlsError(
            bootstrap,
            f"TLS: the certificate of {bootstrap} is not issued for that name ({detail}): use "
            "a name in its certificate in HUB_KAFKA_BOOTSTRAP",
        )
    cafile = connection.settings.kafka_ssl_cafile
    trusted_by = (
        f"HUB_KAFKA_SSL_CAFILE ({cafile})"
        if cafile
        else "the system's CA bundle (HUB_KAFKA_SSL_CAFILE is unset)"
    )
    return KafkaTlsError(
        bootstrap,
        f"TLS: the certificate of {bootstrap} is not trusted by {trusted_by}: {detail}; point "
        "HUB_KAFKA_SSL_CAFILE at the CA that signed the broker's certificate",
    )


def _sasl_refusal(
    connection: KafkaConnection, exc: BaseException, kwargs: dict[str, Any]
) -> KafkaRefusedError | None:
    """The refusal behind a failed SASL exchange, if it is one (not the mechanism)."""
    bootstrap = connection.bootstrap
    protocol = connection.settings.kafka_security_protocol
    if isinstance(exc, _LOGIN_REFUSED):
        return KafkaAuthenticationError(
            bootstrap, str(kwargs["sasl_mechanism"]), str(kwargs["sasl_plain_username"])
        )
    if isinstance(exc, IllegalSaslStateError):
        return KafkaSecurityProtocolError(
            bootstrap,
            protocol,
            "takes no SASL login on this port",
            f"set it to {'SSL' if protocol == 'SASL_SSL' else 'PLAINTEXT'}, or use the port "
            "of a SASL listener",
        )
    return None


async def _tls_refusal(
    connection: KafkaConnection, exc: BaseException, timeout_s: float
) -> KafkaRefusedError | None:
    """The refusal behind a failed connect when TLS is, or is not, configured, if it is one."""
    bootstrap = connection.bootstrap
    protocol = connection.settings.kafka_security_protocol
    host, port = first_server(bootstrap)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _untrusted(connection, exc)
    if protocol in _TLS and isinstance(exc, ssl.SSLError | ConnectionResetError | EOFError):
        if await _answers_plaintext(host, port, timeout_s):
            return KafkaSecurityProtocolError(
                bootstrap,
                protocol,
                "answers without TLS on this port",
                f"set it to {'SASL_PLAINTEXT' if protocol == 'SASL_SSL' else 'PLAINTEXT'}, or "
                "use the port of a TLS listener",
            )
        if isinstance(exc, ssl.SSLError):
            return KafkaTlsError(
                bootstrap,
                f"TLS: the handshake with {bootstrap} failed ({exc.reason or exc}): check "
                "HUB_KAFKA_SSL_CAFILE, and HUB_KAFKA_SSL_CERTFILE / HUB_KAFKA_SSL_KEYFILE if "
                "the broker wants a client certificate",
            )
    if (
        protocol not in _TLS
        and isinstance(exc, KafkaConnectionError)
        and await _speaks_tls(host, port, timeout_s)
    ):
        return KafkaSecurityProtocolError(
            bootstrap,
            protocol,
            "speaks TLS on this port",
            f"set it to {'SASL_SSL' if protocol == 'SASL_PLAINTEXT' else 'SSL'} with "
            "HUB_KAFKA_SSL_CAFILE, or use the port of a plain-text listener",
        )
    return None


async def _refusal_at_connect(
    connection: KafkaConnection,
    exc: BaseException,
    kwargs: dict[str, Any],
    timeout_s: float,
) -> KafkaRefusedError | None:
    """The refusal behind a failed connect (TCP, TLS, ApiVersions, SASL), if it is one."""
    if isinstance(exc, UnsupportedSaslMechanismError):
        host, port = first_server(connection.bootstrap)
        mechanism = str(kwargs["sasl_mechanism"])
        enabled = await _sasl_mechanisms(host, port, kwargs, mechanism, timeout_s)
        return KafkaSaslMechanismError(connection.bootstrap, mechanism, enabled or ())
    refusal = _sasl_refusal(connection, exc, kwargs)
    if refusal is None:
        refusal = await _tls_refusal(connection, exc, timeout_s)
    return refusal


async def diagnose(
    connection: KafkaConnection, failure: BaseException, timeout_s: float = 5.0
) -> KafkaRefusedError | str:
    """The refusal behind a client's failed bootstrap, or a few words on why nobody answered.

    ``failure`` is what the client raised; it is the reason when the first bootstrap server
    answers this probe in full (a client's start can fail after it, on other brokers).
    """
    kwargs = connection.client_kwargs()
    kwargs.pop("bootstrap_servers")
    kwargs.pop("client_id")
    host, port = first_server(connection.bootstrap)
    try:
        conn = await _connect(host, port, kwargs, timeout_s)
    except (OSError, KafkaError, TimeoutError, KeyError, EOFError) as exc:
        refusal = await _refusal_at_connect(connection, exc, kwargs, timeout_s)
        return refusal if refusal is not None else _unreachable_reason(exc, timeout_s)
    try:
        metadata = await asyncio.wait_for(conn.send(MetadataRequest([])), timeout_s)
    except (OSError, KafkaError, TimeoutError) as exc:
        if "sasl_mechanism" not in kwargs:
            enabled = await _sasl_mechanisms(host, port, kwargs, "PLAIN", timeout_s)
            if enabled:
                protocol = connection.settings.kafka_security_protocol
                return KafkaSecurityProtocolError(
                    connection.bootstrap,
                    protocol,
                    f"wants a SASL login on this port ({', '.join(enabled)})",
                    f"set it to {'SASL_SSL' if protocol == 'SSL' else 'SASL_PLAINTEXT'} with "
                    "HUB_KAFKA_SASL_MECHANISM, HUB_KAFKA_SASL_USERNAME and "
                    "HUB_KAFKA_SASL_PASSWORD_FILE",
                )
        return _unreachable_reason(exc, timeout_s)
    finally:
        conn.close()
    advertised = ", ".join(f"{broker[1]}:{broker[2]}" for broker in metadata.brokers)
    return (
        f"{host}:{port} answers, but the client failed ({type(failure).__name__}); are the "
        f"brokers it names ({advertised or 'none'}) reachable from here?"
    )
