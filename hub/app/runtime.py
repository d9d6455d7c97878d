"""``hub up``: bring the hub up, keep it up until told to stop, and leave nothing behind.

Order of start: the local Apache Kafka (only when no Kafka is configured), the pseudonym key,
the audit store and signing key, the topics, the connectors and the audit housekeeping
(stream, checkpoints, retention). Order of stop is the reverse, ending with a last signed
checkpoint. A SIGINT or SIGTERM stops cleanly;
a dying local broker stops the hub with an error instead of leaving it running blind.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from faststream.kafka import KafkaBroker
from pydantic import SecretStr

from contracts import CONTRACT_DIR, MUNICIPALITIES_FILE
from hub.admin.provisioning import provision_topics, wait_for_group_coordinators
from hub.app.instance_lock import hold_instance
from hub.audit import open_recorder
from hub.audit.recorder import AuditRecorder
from hub.audit.stream import audit_topic_sender, housekeeping
from hub.broker.connection import (
    LOCAL_STATE_FILE,
    KafkaConnection,
    read_local_state,
    write_local_state,
)
from hub.broker.faststream_broker import build_kafka_broker, start_broker
from hub.broker.kafka import default_jar_dir, fetch_jars, jars_present
from hub.broker.local import LocalKafka
from hub.broker.watch import Readiness, watch_broker, watch_lag
from hub.connector import Connector, ConnectorContext
from hub.core.errors import ConfigurationError, LocalBrokerError
from hub.core.logs import get_logger
from hub.core.metrics import HubMetrics, serve_http
from hub.core.settings import HubSettings, pseudonym_secret
from hub.core.topics import TOPICS
from hub.distribution.contracts import ContractBook, load_contract_book
from hub.distribution.delivery_log import DeliveryLog
from hub.distribution.rendering import CLOUDEVENTS_JSON, Renderer
from hub.distribution.routes import distribution_descriptions, distribution_routes
from hub.referrals.register import ReferralRegister
from hub.referrals.tracking import REFERRAL_TRACKING, referral_tracking_route
from hub.routing.description import RouteDescription
from hub.routing.in_doubt import InDoubt, settle_in_doubt
from hub.routing.middlewares import Progress, metrics_middleware, progress_middleware
from hub.routing.pipeline import Route, settler_of, wire_route
from hub.routing.quarantine import QuarantineStore
from hub.routing.route_failures import RouteFailures
from hub.routing.supervision import Supervised, supervise
from hub.routing.transactions import RouteProducer, default_instance_id, transactional_id
from hub.share.ledger import open_share_ledger
from hub.share.route import SHARE_LEDGER, share_ledger_route
from hub.share.rules import BASIC_AMOUNT_FILE, STEP_TABLE_FILE, load_rules
from hub.statistics.route import STATISTICS, statistics_route
from hub.statistics.store import open_store as open_statistics_store

__all__ = [
    "HubStatus",
    "contract_book_for",
    "fetch_limits",
    "renderers_for",
    "route_descriptions",
    "routes_for",
    "serve",
]

log = get_logger(__name__)
_WATCH_INTERVAL_S = 0.5


@dataclass(frozen=True)
class HubStatus:
    """What ``hub up`` announces once everything runs."""

    bootstrap: str
    local: bool
    data_dir: Path
    topics: tuple[str, ...]
    connectors: tuple[str, ...]


def renderers_for(
    connectors: Sequence[Connector], settings: HubSettings | None = None
) -> dict[str, Renderer]:
    """Every format the contracts may name: the built-in CloudEvents JSON and the connectors'.

    With ``settings``, a connector's renderers configured by them (its defaults otherwise).
    """
    renderers = {CLOUDEVENTS_JSON.format: CLOUDEVENTS_JSON}
    for connector in connectors:
        configured = (
            connector.renderers
            if settings is None or connector.configure_renderers is None
            else connector.configure_renderers(settings)
        )
        renderers.update({r.format: r for r in configured})
    return renderers


def fetch_limits(settings: HubSettings) -> dict[str, int]:
    """What one fetch of a route's consumer may bring, in all and per partition: large
    messages cannot take the hub's memory further than that (and one record batch)."""
    return {
        "fetch_max_bytes": settings.kafka_fetch_max_bytes,
        "max_partition_fetch_bytes": settings.kafka_max_partition_fetch_bytes,
    }


def contract_book_for(settings: HubSettings, connectors: Sequence[Connector]) -> ContractBook:
    """The validated contracts (``ConfigurationError`` naming file and field otherwise)."""
    return load_contract_book(
        renderers_for(connectors),
        settings.contracts_dir or CONTRACT_DIR,
        settings.municipalities_file or MUNICIPALITIES_FILE,
    )


def routes_for(
    settings: HubSettings, connectors: Sequence[Connector], secret: bytes
) -> list[Route]:
    """Every route the hub runs: each connector's, then contract-driven distribution."""
    context = ConnectorContext(settings, secret)
    routes = [route for c in connectors for route in c.build_routes(context)]
    book = contract_book_for(settings, connectors)
    data_dir = settings.data_dir
    return [
        *routes,
        referral_tracking_route(ReferralRegister.open(data_dir)),
        share_ledger_route(
            open_share_ledger(data_dir, _secret(settings.share_dsn)),
            load_rules(
                settings.share_step_table_file or STEP_TABLE_FILE,
                settings.share_basic_amount_file or BASIC_AMOUNT_FILE,
            ),
            settings.share_alert_days,
        ),
        statistics_route(open_statistics_store(data_dir, _secret(settings.statistics_dsn))),
        # A connection of their own: distribution reads only what the tracking route committed.
        *distribution_routes(
            book,
            renderers_for(connectors, settings),
            lambda: DeliveryLog.open(data_dir),
            ReferralRegister.open(data_dir),
        ),
    ]


def route_descriptions(
    connectors: Sequence[Connector], book: ContractBook
) -> list[RouteDescription]:
    """What ``routes_for`` builds, in its order, described: nothing is opened, no secret used."""
    return [
        *(described for c in connectors for described in c.routes),
        REFERRAL_TRACKING,
        SHARE_LEDGER,
        STATISTICS,
        *distribution_descriptions(book),
    ]


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


async def _watch_local(broker: LocalKafka, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if not broker.is_running():
            raise LocalBrokerError(
                f"the local Apache Kafka exited unexpectedly (see {broker.log_path})"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _WATCH_INTERVAL_S)


async def _bootstrap(
    settings: HubSettings, running: contextlib.AsyncExitStack
) -> tuple[LocalKafka | None, str]:
    """The broker to use: the configured cluster, or a started local one (stopped, and its
    state file removed, when ``running`` closes). Kafka's jars are fetched first if missing."""
    if settings.kafka_bootstrap is not None:
        return None, settings.kafka_bootstrap
    jar_dir = settings.kafka_jars_dir or default_jar_dir()
    if not jars_present(jar_dir):
        log.info("fetching Apache Kafka with Maven", into=str(jar_dir))
        await asyncio.to_thread(fetch_jars, jar_dir)
    local = LocalKafka(settings.data_dir, jar_dir=jar_dir)
    running.callback(_forget_local, settings.data_dir)
    running.callback(local.stop)
    bootstrap = await asyncio.to_thread(local.start)
    log.info(
        "local broker started",
        bootstrap=bootstrap,
        pid=local.pid,
        log_dir=str(local.directory),
    )
    return local, bootstrap


def _forget_local(data_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (data_dir / LOCAL_STATE_FILE).unlink()


async def _close_server(server: asyncio.Server) -> None:
    server.close()
    await server.wait_closed()


async def _finish(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    stop.set()
    await task


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _watchers(
    running: contextlib.AsyncExitStack,
    settings: HubSettings,
    connection: KafkaConnection,
    readiness: Readiness,
    supervised: list[Supervised],
    routes: Sequence[Route],
    stop: asyncio.Event,
) -> None:
    """Kafka's presence (readiness), the routes' progress (supervision), consumer lag."""
    metrics = readiness.metrics

    async def recover() -> None:
        # A cluster rebuilt while the hub waited may lack topics: say so, and create them.
        provisioned = await provision_topics(connection)
        if provisioned.created:
            log.warning("Kafka came back without some topics", created=len(provisioned.created))

    broker_watch = asyncio.create_task(watch_broker(connection, readiness, recover, stop))
    running.push_async_callback(_cancel, broker_watch)
    supervisor = asyncio.create_task(supervise(supervised, metrics, settings.stall_timeout_s, stop))
    running.push_async_callback(_cancel, supervisor)
    groups: dict[str, set[str]] = {}
    for route in routes:
        groups.setdefault(route.consumer_group, set()).update(route.topics)
    lag_watch = asyncio.create_task(watch_lag(metrics, connection.client_kwargs(), groups, stop))
    running.push_async_callback(_finish, lag_watch, stop)


async def _wire_routes(
    running: contextlib.AsyncExitStack,
    settings: HubSettings,
    connection: KafkaConnection,
    kafka: KafkaBroker,
    routes: Sequence[Route],
    recorder: AuditRecorder,
    metrics: HubMetrics,
) -> list[Supervised]:
    """Settle what a previous run left in doubt, then subscribe every route with a producer
    of its own (transactional unless ``HUB_KAFKA_TRANSACTIONS=false``)."""
    quarantine = QuarantineStore.in_data_dir(settings.data_dir)
    instance = settings.instance_id or default_instance_id(settings.data_dir)
    # Its own notes only: another instance may share the data directory.
    in_doubt = InDoubt.open(settings.data_dir, instance)
    running.callback(in_doubt.close)
    # Before any route consumes: a batch Kafka committed before its ledgers did.
    await settle_in_doubt(
        in_doubt, connection.client_kwargs(), {r.consumer_group: settler_of(r) for r in routes}
    )
    # Together: each start is a round trip to the transaction coordinator.
    started = await asyncio.gather(
        *(
            RouteProducer.started(
                connection,
                transactional_id(route.consumer_group, instance)
                if settings.kafka_transactions
                else None,
                settings.kafka_transaction_timeout_ms,
            )
            for route in routes
        ),
        return_exceptions=True,
    )
    producers = [p for p in started if isinstance(p, RouteProducer)]
    for producer in producers:
        running.push_async_callback(producer.stop)
    for failure in started:
        if isinstance(failure, BaseException):
            raise failure
    supervised = []
    for route, producer in zip(routes, producers, strict=True):
        progress = Progress()
        subscription = wire_route(
            kafka,
            route,
            settings.kafka_session_timeout_ms,
            recorder,
            max_batch=settings.route_batch,
            publisher=producer,
            in_doubt=in_doubt,
            quarantine=quarantine,
            failures=RouteFailures(route.connector, settings.route_max_attempts, metrics),
            fetch=fetch_limits(settings),
            middlewares=(progress_middleware(progress), metrics_middleware(metrics)),
        )
        supervised.append(Supervised(route.connector, subscription, progress))
    return supervised


async def serve(
    settings: HubSettings,
    connectors: Sequence[Connector],
    announce: Callable[[HubStatus], None],
    stop: asyncio.Event | None = None,
    metrics: HubMetrics | None = None,
) -> None:
    """Run the hub until ``stop`` is set or SIGINT/SIGTERM arrives; ``metrics`` lets a caller
    (``hub up --console``) read the figures the hub keeps."""
    stop = stop or asyncio.Event()
    already = read_local_state(settings.data_dir) if settings.local_broker else None
    if already is not None:
        raise ConfigurationError(
            f"HUB_DATA_DIR: a hub with a local broker ({already}) already runs on "
            f"{settings.data_dir}; stop it or use another data directory"
        )
    loop = asyncio.get_running_loop()
    async with contextlib.AsyncExitStack() as running:
        running.enter_context(
            hold_instance(
                settings.data_dir, settings.instance_id or default_instance_id(settings.data_dir)
            )
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
            running.callback(loop.remove_signal_handler, signum)
        running.callback(log.info, "hub stopped")
        # Configuration first: a missing key or a broken contract stops start-up at once.
        routes = routes_for(settings, connectors, pseudonym_secret(settings))
        recorder = open_recorder(settings)
        running.callback(recorder.store.close)
        # The last checkpoint covers everything recorded, once nothing records any more.
        running.push_async_callback(asyncio.to_thread, recorder.checkpoint)
        local, bootstrap = await _bootstrap(settings, running)
        connection = KafkaConnection(bootstrap, settings)
        await provision_topics(connection)
        if local is not None:
            # A new local broker's offsets topic is made on first demand: make it now, quietly.
            await wait_for_group_coordinators(connection, (r.consumer_group for r in routes))
        kafka = build_kafka_broker(connection)
        metrics, ready = metrics or HubMetrics(), asyncio.Event()
        if settings.metrics_port is not None:
            server = await serve_http(metrics, ready, settings.metrics_host, settings.metrics_port)
            running.push_async_callback(_close_server, server)
        supervised = await _wire_routes(
            running, settings, connection, kafka, routes, recorder, metrics
        )
        running.push_async_callback(kafka.stop)
        await start_broker(kafka, connection)
        readiness = Readiness(ready, metrics)
        readiness.up()
        running.callback(readiness.down)  # first thing on the way down: not ready any more
        await _watchers(running, settings, connection, readiness, supervised, routes, stop)
        housekeeper = asyncio.create_task(
            housekeeping(
                recorder,
                audit_topic_sender(kafka.publish),
                stop,
                settings.audit_payload_retention_days,
            )
        )
        running.push_async_callback(_finish, housekeeper, stop)
        if settings.local_broker:
            write_local_state(settings.data_dir, bootstrap)
        announce(
            HubStatus(
                bootstrap=bootstrap,
                local=settings.local_broker,
                data_dir=settings.data_dir.resolve(),
                topics=tuple(spec.name for spec in TOPICS),
                connectors=tuple(connector.name for connector in connectors),
            )
        )
        log.info("hub up", connectors=len(connectors), routes=len(routes))
        if local is not None:
            await _watch_local(local, stop)
        else:
            await stop.wait()
        log.info("hub stopping")
