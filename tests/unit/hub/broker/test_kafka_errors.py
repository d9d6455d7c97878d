"""Which Kafka failures are retried and which name their cause at once (hub.broker.diagnosis,
hub.broker.bootstrap); the real broker's side is tests/security/test_connection_errors.py."""

from __future__ import annotations

import asyncio
import inspect
import socket

import aiokafka.errors
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    BrokerResponseError,
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    IncompatibleBrokerVersion,
    KafkaConnectionError,
    KafkaTimeoutError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
    UnknownError,
    UnsupportedVersionError,
)
from structlog.testing import capture_logs

from hub.broker import bootstrap
from hub.broker.bootstrap import start_client
from hub.broker.connection import KafkaConnection
from hub.broker.diagnosis import (
    AUTHORIZATION_ERRORS,
    first_server,
    operation_error,
    start_refusal,
)
from hub.broker.local import find_free_port
from hub.core.errors import (
    BrokerUnavailableError,
    KafkaAuthorizationError,
    KafkaIdempotenceRefusedError,
    KafkaRefusedError,
    TransientError,
)
from hub.core.settings import load_settings

PASSWORD = "pw-that-must-never-show"


def _plain(bootstrap: str = "k:9092", **settings: object) -> KafkaConnection:
    return KafkaConnection(bootstrap, load_settings(kafka_bootstrap=bootstrap, **settings))


def _sasl() -> KafkaConnection:
    return _plain(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="hub",
        kafka_sasl_password=PASSWORD,
    )


@pytest.mark.parametrize(
    "error", [UnknownError(), UnsupportedVersionError(), IncompatibleBrokerVersion()]
)
def test_a_broker_without_init_producer_id_names_the_idempotence_setting(
    error: Exception,
) -> None:
    refusal = start_refusal(_plain(), error, idempotent_producer=True)
    assert isinstance(refusal, KafkaIdempotenceRefusedError)
    assert str(refusal) == (
        f"Kafka at k:9092 refused an idempotent producer (InitProducerId: "
        f"{type(error).__name__}): set HUB_KAFKA_IDEMPOTENCE=false for a broker without it"
    )


def test_a_missing_acl_for_init_producer_id_names_the_acl_and_the_setting() -> None:
    refusal = start_refusal(_sasl(), ClusterAuthorizationFailedError(), idempotent_producer=True)
    assert isinstance(refusal, KafkaIdempotenceRefusedError)
    message = str(refusal)
    assert "user 'hub' needs WRITE on a topic or IDEMPOTENT_WRITE on the cluster" in message
    assert "HUB_KAFKA_IDEMPOTENCE=false" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("error", [UnknownError(), UnsupportedVersionError()])
def test_the_same_errors_of_a_client_that_is_no_idempotent_producer_are_not_about_it(
    error: Exception,
) -> None:
    assert start_refusal(_plain(), error, idempotent_producer=False) is None


@pytest.mark.parametrize(
    "error", [GroupAuthorizationFailedError(), TopicAuthorizationFailedError()]
)
def test_an_acl_refusal_at_start_is_an_authorization_error(error: Exception) -> None:
    refusal = start_refusal(_sasl(), error, idempotent_producer=True)
    assert isinstance(refusal, KafkaAuthorizationError)
    assert "user 'hub'" in str(refusal)
    assert PASSWORD not in str(refusal)


def test_every_authorization_error_of_aiokafka_is_mapped() -> None:
    kinds = {
        cls
        for _, cls in inspect.getmembers(aiokafka.errors, inspect.isclass)
        if issubclass(cls, BrokerResponseError) and "Authorization" in cls.__name__
    }
    assert kinds
    assert kinds <= set(AUTHORIZATION_ERRORS), kinds - set(AUTHORIZATION_ERRORS)


def test_an_acl_refusal_of_a_running_client_names_what_it_tried() -> None:
    error = operation_error(_sasl(), TopicAuthorizationFailedError(), "to read topic x.y")
    assert isinstance(error, KafkaAuthorizationError)
    assert str(error) == (
        "Kafka at k:9092 does not allow user 'hub' to read topic x.y "
        "(TopicAuthorizationFailedError): grant the ACLs `hub acls generate` prints for it "
        "(docs/operations.md, ACLs)"
    )
    anonymous = operation_error(_plain(), TopicAuthorizationFailedError(), "to read topic x.y")
    assert "does not allow this client to read" in str(anonymous)


@pytest.mark.parametrize("error", [NotLeaderForPartitionError(), KafkaTimeoutError()])
def test_other_errors_of_a_running_client_are_the_broker_being_away(error: Exception) -> None:
    assert isinstance(error, aiokafka.errors.KafkaError)
    mapped = operation_error(_plain(), error, "to read topic x.y")
    assert isinstance(mapped, BrokerUnavailableError)
    assert isinstance(mapped, TransientError)


def test_refusals_are_configuration_errors_not_transient_ones() -> None:
    for kind in KafkaRefusedError.__subclasses__():
        assert not issubclass(kind, TransientError)
        assert kind.exit_code == 2


@pytest.mark.parametrize(
    ("bootstrap", "server"),
    [("a:1", ("a", 1)), (" b:2 , c:3", ("b", 2)), ("[::1]:9092,x:1", ("::1", 9092))],
)
def test_the_probe_asks_the_first_bootstrap_server(bootstrap: str, server: tuple[str, int]) -> None:
    assert first_server(bootstrap) == server


class _Client:
    """A client whose start fails with ``error``, or else answers after ``seconds``
    (``None``: never); counts starts and stops."""

    starts = 0
    stops = 0

    def __init__(self, error: BaseException | None = None, seconds: float | None = 0.0) -> None:
        self.error = error
        self.seconds = seconds

    async def start(self) -> None:
        type(self).starts += 1
        if self.error is not None:
            raise self.error
        if self.seconds is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(self.seconds)

    async def stop(self) -> None:
        type(self).stops += 1


@pytest.fixture
def client_counts() -> type[_Client]:
    _Client.starts = _Client.stops = 0
    return _Client


async def test_a_refusal_is_not_retried(client_counts: type[_Client]) -> None:
    connection = _plain(kafka_connect_timeout_s=30)
    with pytest.raises(KafkaIdempotenceRefusedError, match="HUB_KAFKA_IDEMPOTENCE=false"):
        await start_client(
            connection,
            lambda: client_counts(UnknownError()),
            client_counts.start,
            client_counts.stop,
            idempotent_producer=True,
        )
    assert (client_counts.starts, client_counts.stops) == (1, 1)


async def test_a_closed_port_is_retried_with_a_warning_then_names_the_reason() -> None:
    bootstrap_address = f"127.0.0.1:{find_free_port()}"
    connection = _plain(bootstrap_address, kafka_connect_timeout_s=0.5)
    with capture_logs() as logs, pytest.raises(BrokerUnavailableError) as raised:
        await start_client(
            connection,
            lambda: _Client(KafkaConnectionError("Unable to bootstrap")),
            _Client.start,
            _Client.stop,
        )
    assert str(raised.value) == (
        f"Kafka at {bootstrap_address} is not reachable: connection refused (tried for 0.5 s; "
        "HUB_KAFKA_CONNECT_TIMEOUT_S)"
    )
    assert logs[0] == {
        "event": "Kafka not reachable: retrying",
        "log_level": "warning",
        "bootstrap": bootstrap_address,
        "reason": "connection refused",
        "retrying_for_s": 0.5,
        "setting": "HUB_KAFKA_CONNECT_TIMEOUT_S",
    }


def test_further_warnings_come_at_most_every_few_seconds() -> None:
    ticks = iter([0.0, 0.0, 0.2, 0.6, 1.4, 3.0, 5.0, 5.5, 7.0, 9.0, 10.1, 10.3])
    progress = bootstrap._Progress(_plain(kafka_connect_timeout_s=30), lambda: next(ticks))
    with capture_logs() as logs:
        for _ in range(11):
            progress.failed("connection refused")
    assert bootstrap.PROGRESS_EVERY_S == 5.0
    assert [(log["event"], log.get("attempts")) for log in logs] == [
        ("Kafka not reachable: retrying", None),
        ("Kafka still not reachable: retrying", 6),
        ("Kafka still not reachable: retrying", 10),
    ]
    assert (logs[1]["elapsed_s"], logs[1]["gives_up_in_s"]) == (5.0, 25.0)


async def test_a_broker_that_takes_the_connection_and_never_answers_is_given_up_in_time() -> None:
    # A real aiokafka client against a socket that accepts and never answers: without the
    # bound, its start waits out aiokafka's request timeout (40 s), past the setting.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        bootstrap_address = f"127.0.0.1:{silent.getsockname()[1]}"
        connection = _plain(bootstrap_address, kafka_connect_timeout_s=0.5)
        with capture_logs() as logs, pytest.raises(BrokerUnavailableError) as raised:
            await start_client(
                connection,
                lambda: AIOKafkaAdminClient(**connection.client_kwargs()),
                AIOKafkaAdminClient.start,
                AIOKafkaAdminClient.close,
            )
    # The reason only the bound gives (aiokafka's own timeout reads otherwise).
    assert str(raised.value) == (
        f"Kafka at {bootstrap_address} is not reachable: took the connection, did not answer "
        "(tried for 0.5 s; HUB_KAFKA_CONNECT_TIMEOUT_S)"
    )
    assert logs[0]["reason"] == "took the connection, did not answer"


async def test_a_start_that_answers_within_the_setting_is_waited_for(
    client_counts: type[_Client],
) -> None:
    # Longer than the least an attempt gets, well within the setting: one start, no retry.
    client = await start_client(
        _plain(kafka_connect_timeout_s=5),
        lambda: client_counts(seconds=0.3),
        _Client.start,
        _Client.stop,
    )
    assert isinstance(client, _Client)
    assert (client_counts.starts, client_counts.stops) == (1, 0)


async def test_every_start_given_up_on_is_stopped(client_counts: type[_Client]) -> None:
    connection = _plain("127.0.0.1:9", kafka_connect_timeout_s=0.3)
    with capture_logs(), pytest.raises(BrokerUnavailableError) as raised:
        await start_client(
            connection, lambda: client_counts(seconds=None), _Client.start, _Client.stop
        )
    assert str(raised.value) == (
        "Kafka at 127.0.0.1:9 is not reachable: took the connection, did not answer "
        "(tried for 0.3 s; HUB_KAFKA_CONNECT_TIMEOUT_S)"
    )
    assert client_counts.starts >= 1
    assert client_counts.stops == client_counts.starts


@pytest.mark.parametrize("error", [aiokafka.errors.KafkaTimeoutError, UnknownError])
async def test_another_kafka_error_at_start_names_its_kind(
    client_counts: type[_Client], error: type[Exception]
) -> None:
    # Not a refusal: a client that is no idempotent producer was not refused InitProducerId.
    connection = _plain("127.0.0.1:9", kafka_connect_timeout_s=30)
    with pytest.raises(BrokerUnavailableError) as raised:
        await start_client(
            connection, lambda: client_counts(error()), client_counts.start, client_counts.stop
        )
    assert str(raised.value) == f"Kafka at 127.0.0.1:9 is not reachable: {error.__name__}"
    assert (client_counts.starts, client_counts.stops) == (1, 1)
