"""``hub audit verify|replay|recompute|disclosures|export|prune|checkpoint``: the auditors' tools.

Times (``--from``, ``--to``) are ISO 8601; without an offset they are UTC. Windows are
half-open: from inclusive, to exclusive. Identity codes given with ``--person`` are turned into
the person reference at once and never printed or logged.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from hub.cli._common import err, out, run, start_command
from hub.core.errors import ConfigurationError, HubError
from hub.core.topics import AUDIT_TOPIC

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from hub.audit.evidence import Evidence
    from hub.audit.store import AuditStore
    from hub.audit.verify import VerifyReport
    from hub.broker.connection import KafkaConnection
    from hub.core.settings import HubSettings

__all__ = ["audit_app"]

audit_app = typer.Typer(
    help="The audit log: verify, replay, recompute, disclose, export.", no_args_is_help=True
)

FromOption = Annotated[
    str | None, typer.Option("--from", help="Start of the window (ISO 8601, inclusive).")
]
ToOption = Annotated[
    str | None, typer.Option("--to", help="End of the window (ISO 8601, exclusive).")
]


class AuditFailedError(HubError):
    """Verification found something wrong (the findings are printed before)."""


def _moment(value: str | None, option: str) -> str | None:
    from hub.audit.records import format_time  # noqa: PLC0415 - heavy.

    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{option}: {value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return format_time(moment)


def _person(settings: HubSettings, code: str | None) -> str | None:
    return None if code is None else _person_ref(settings, code)


def _person_ref(settings: HubSettings, code: str) -> str:
    from hub.core.settings import pseudonym_secret  # noqa: PLC0415 - heavy.
    from schemas.identity_code import IdentityCodeError, validate_identity_code  # noqa: PLC0415 - heavy.
    from schemas.person_ref import person_ref_for  # noqa: PLC0415 - heavy.

    try:
        valid = validate_identity_code(code.strip())
    except IdentityCodeError as exc:
        raise ConfigurationError(f"--person: not a valid identity code ({exc.reason})") from None
    return person_ref_for(valid, pseudonym_secret(settings))


def _trusted_key(settings: HubSettings, public_key: Path | None) -> Ed25519PublicKey:
    from hub.audit.signing import PUBLIC_KEY_FILE, load_public_key  # noqa: PLC0415 - heavy.

    if public_key is not None:
        return load_public_key(public_key)
    if settings.audit_signing_key_file is not None:
        return load_public_key(settings.audit_signing_key_file)
    default = settings.data_dir / PUBLIC_KEY_FILE
    if default.exists():
        return load_public_key(default)
    raise ConfigurationError(
        f"--public-key: no trusted key given and no {default} (pass the auditors' copy)"
    )


@contextmanager
def _store(settings: HubSettings) -> Iterator[AuditStore]:
    from hub.audit import open_store  # noqa: PLC0415 - heavy.

    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()


def _print_report(report: VerifyReport, what: str) -> None:
    for finding in report.findings:
        err.print(finding.line(), markup=False)
    for chain, count in sorted(report.unsigned.items()):
        out.print(
            f"chain {chain}: last {count} record(s) not yet under a signed checkpoint", markup=False
        )
    if report.anchors_ignored:
        err.print(
            f"note: {report.anchors_ignored} anchor(s) ignored: their signature does not hold "
            "under the trusted key",
            markup=False,
        )
    verdict = "holds" if report.holds else f"FAILS ({len(report.findings)} finding(s))"
    out.print(
        f"{what}: {report.chains} chain(s), {report.records} record(s), "
        f"{report.checkpoints} checkpoint(s): {verdict}",
        markup=False,
    )


def _anchor_connection(settings: HubSettings, use_topic: bool) -> KafkaConnection | None:
    from hub.broker.connection import connection_for  # noqa: PLC0415 - heavy.

    if not use_topic:
        return None
    try:
        return connection_for(settings)
    except ConfigurationError:
        # No broker is configured or running here: the file anchor may still be there.
        err.print(
            f"note: no broker to read the anchors on {AUDIT_TOPIC} from (HUB_KAFKA_BOOTSTRAP "
            "unset, no hub running)",
            markup=False,
        )
        return None


def _gather_anchors(
    evidence: Evidence,
    connection: KafkaConnection | None,
    anchor_file: Path | None,
    store: AuditStore,
) -> None:
    """Hand ``evidence`` every anchor of the anchor file and the audit topic."""
    from hub.audit.anchors import read_topic_anchors  # noqa: PLC0415 - heavy.

    if anchor_file is not None:
        evidence.add_anchor_file(anchor_file, required=bool(store.latest_checkpoints(1)))
    if connection is not None:
        run(read_topic_anchors(connection, evidence.add_anchor))


@contextmanager
def _anchors_status(anchor_file: Path | None, connection: KafkaConnection | None) -> Iterator[None]:
    """Says on the terminal that the anchors are being read (rich draws nothing when stderr
    is not one): the anchors on the topic are found by reading all of it, every audit record
    being a message there too, before any record of the store is checked."""
    places = [name for name, used in (("the anchor file", anchor_file), (AUDIT_TOPIC, connection))
              if used is not None]  # fmt: skip
    if not places:
        yield
        return
    with err.status(f"reading the checkpoint anchors ({', '.join(places)})"):
        yield


@contextmanager
def _records_bar(total: int) -> Iterator[Callable[[int], object]]:
    """A progress bar of the records verified on the terminal (none when stderr is not one):
    verifying a year's log takes minutes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn  # noqa: PLC0415 - heavy.

    columns = ("verify", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("verify", total=total)
        yield lambda records: bar.advance(task, records)


def _print_anchor(report: VerifyReport, read: int) -> None:
    if report.anchor is None:
        err.print(
            "note: no anchor found: a store rolled back with its newest checkpoints cannot be "
            "told from an intact one (see docs/audit.md)",
            markup=False,
        )
        return
    out.print(
        f"held against checkpoint {report.anchor.checkpoint} anchored on "
        f"{report.anchor.source} ({read} anchor(s) read)",
        markup=False,
    )


@audit_app.command("verify")
def verify(
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="The trusted public key (PEM). Default: the hub's."),
    ] = None,
    export: Annotated[
        Path | None, typer.Option("--export", help="Verify an export folder instead of the store.")
    ] = None,
    anchor_topic: Annotated[
        bool,
        typer.Option(
            "--anchor-topic/--no-anchor-topic",
            help=f"Hold the store against the checkpoint anchors on {AUDIT_TOPIC} (when a "
            "broker is configured or a hub runs).",
        ),
    ] = True,
    anchor_file: Annotated[
        Path | None,
        typer.Option("--anchor-file", help="The anchor file. Default: HUB_AUDIT_ANCHOR_FILE."),
    ] = None,
    require_anchor: Annotated[
        bool,
        typer.Option("--require-anchor", help="Fail when no anchor is found."),
    ] = False,
) -> None:
    """Recompute every chain, check every signature, hold the store against its anchor.

    The anchor is the newest one outside the database. Exit 0 only if all holds.
    """
    from hub.audit.evidence import Evidence  # noqa: PLC0415 - heavy.
    from hub.audit.export import read_export, verify_export  # noqa: PLC0415 - heavy.
    from hub.audit.signing import load_public_key, public_key_from_pem  # noqa: PLC0415 - heavy.
    from hub.audit.verify import reading_with_progress, verify_chains  # noqa: PLC0415 - heavy.

    settings = start_command()
    if export is not None:
        folder = read_export(export)
        if public_key is None:
            err.print("note: trusting the public key inside the export (pass --public-key)")
            key = public_key_from_pem(str(folder.manifest["public_key"]).encode(), "the export")
        else:
            key = load_public_key(public_key)
        report = verify_export(folder, key)
        _print_report(report, f"export {export}")
    else:
        key = _trusted_key(settings, public_key)
        connection = _anchor_connection(settings, anchor_topic)
        anchors = anchor_file or settings.audit_anchor_file
        with _store(settings) as store, Evidence(key) as evidence:
            with _anchors_status(anchors, connection):
                _gather_anchors(evidence, connection, anchors, store)
            with _records_bar(store.record_count()) as advance:
                report = verify_chains(
                    store.chains(),
                    reading_with_progress(store.chain, advance),
                    store.checkpoints(),
                    key,
                    evidence=evidence,
                )
        _print_anchor(report, evidence.anchors_read)
        _print_report(report, f"audit store {store.name}")
        if report.behind is not None:
            raise AuditFailedError(
                f"the audit store is behind its anchor on {report.behind.anchor.source}: "
                f"{report.behind.records} record(s) and {report.behind.checkpoints} "
                "checkpoint(s) missing"
            )
        if require_anchor and report.anchor is None:
            raise AuditFailedError("--require-anchor: no anchor of a signed checkpoint found")
    if not report.holds:
        raise AuditFailedError("the audit log does not verify (see the findings above)")


@audit_app.command("disclosures")
def disclosures(
    person: Annotated[str, typer.Option("--person", help="The person's identity code.")],
    output: Annotated[
        Literal["table", "csv", "json"], typer.Option("--format", help="table, csv or json.")
    ] = "table",
) -> None:
    """Every disclosure about one person: when, to whom, which event and fields, on what basis."""
    from hub.audit.disclosures import disclosures_of, render_csv, render_json, render_text  # noqa: PLC0415 - heavy.

    settings = start_command()
    person_ref = _person_ref(settings, person)
    with _store(settings) as store:
        found = list(disclosures_of(store, person_ref))
    if output == "csv":
        out.print(render_csv(found), end="", markup=False)
    elif output == "json":
        out.print(render_json(found), markup=False)
    else:
        out.print(f"Disclosures about {person_ref}", markup=False)
        if found:
            out.print(f"\n{render_text(found, out.width)}\n", markup=False)
        out.print(f"{len(found)} disclosure(s)")


@audit_app.command("export")
def export(
    out_dir: Annotated[Path, typer.Option("--out", help="An empty folder to write to.")],
    since: FromOption = None,
    until: ToOption = None,
) -> None:
    """Write the window's records as JSONL with a manifest, verifiable offline."""
    from hub.audit.export import export_window  # noqa: PLC0415 - heavy.
    from hub.audit.records import format_time  # noqa: PLC0415 - heavy.

    settings = start_command()
    key = _trusted_key(settings, None)
    with _store(settings) as store:
        summary = export_window(
            store,
            key,
            out_dir,
            _moment(since, "--from"),
            _moment(until, "--to"),
            format_time(dt.datetime.now(dt.UTC)),
        )
    out.print(
        f"exported {summary.records} record(s) of {summary.chains} chain(s) and "
        f"{summary.checkpoints} checkpoint(s) to {out_dir}",
        markup=False,
    )


@audit_app.command("replay")
def replay_command(
    to_topic: Annotated[str, typer.Option("--to-topic", help="Where to publish (required).")],
    since: FromOption = None,
    until: ToOption = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Only this person's events.")
    ] = None,
    event_type: Annotated[
        str | None,
        typer.Option("--type", help="Only this type, e.g. fi.paijathame.hub.client-status.v1."),
    ] = None,
    rate: Annotated[
        float | None, typer.Option("--rate", min=0.001, help="At most N messages per second.")
    ] = None,
) -> None:
    """Re-publish recorded events in their original order, each marked as a replay."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn  # noqa: PLC0415 - heavy.

    from hub.admin.provisioning import list_topics  # noqa: PLC0415 - heavy.
    from hub.admin.topic_io import UnknownTopicError  # noqa: PLC0415 - heavy.
    from hub.audit import open_recorder  # noqa: PLC0415 - heavy.
    from hub.audit.replay import replay, replayable  # noqa: PLC0415 - heavy.
    from hub.audit.store import RecordQuery  # noqa: PLC0415 - heavy.
    from hub.broker.connection import connection_for  # noqa: PLC0415 - heavy.
    from hub.routing.lines import started_producer  # noqa: PLC0415 - heavy.

    settings = start_command()
    query = RecordQuery(
        _moment(since, "--from"), _moment(until, "--to"), _person(settings, person), event_type
    )
    recorder = open_recorder(settings)

    async def go() -> tuple[int, int, str]:
        connection = connection_for(settings)
        if to_topic not in await list_topics(connection):
            raise UnknownTopicError(to_topic)
        producer = await started_producer(connection)
        try:
            total = sum(1 for _ in replayable(recorder, query))
            columns = ("replay", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(
                *columns, console=err, transient=True, disable=not err.is_terminal
            ) as bar:
                task = bar.add_task("replay", total=total)
                summary = await replay(
                    recorder,
                    producer,
                    query,
                    to_topic,
                    rate,
                    lambda done: bar.update(task, completed=done),
                )
        finally:
            await producer.stop()
        return summary.replayed, summary.pruned, summary.run

    try:
        replayed, pruned, run_id = run(go())
        recorder.checkpoint()
    finally:
        recorder.store.close()
    out.print(f"replayed {replayed} event(s) to {to_topic} (run {run_id})", markup=False)
    if pruned:
        out.print(f"{pruned} event(s) skipped: their payloads were pruned by retention")


@audit_app.command("recompute")
def recompute_command(since: FromOption = None, until: ToOption = None) -> None:
    """Run today's translations over the recorded inputs; diff with the recorded outputs."""
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.
    from hub.app.runtime import routes_for  # noqa: PLC0415
    from hub.core.settings import pseudonym_secret  # noqa: PLC0415 - heavy.
    from hub.routing.recompute import recompute  # noqa: PLC0415 - heavy.

    settings = start_command()
    secret = pseudonym_secret(settings)
    with tempfile.TemporaryDirectory(prefix="hub-recompute-") as scratch, _store(settings) as store:
        scratch_settings = settings.model_copy(
            update={"data_dir": Path(scratch), "share_dsn": None}
        )
        routes = routes_for(scratch_settings, CONNECTORS, secret)
        report = recompute(store, routes, _moment(since, "--from"), _moment(until, "--to"))
    for difference in report.differences:
        for line in difference.explain():
            out.print(line, markup=False)
    out.print(
        f"compared {report.compared} input(s) ({report.warmed_up} earlier ones replayed to "
        f"rebuild state); {len(report.differences)} differ",
        markup=False,
    )
    skipped = {
        "redelivered": report.skipped_redelivered,
        "payload pruned": report.skipped_pruned,
        "no current route": report.skipped_unknown_route,
    }
    if any(skipped.values()):
        out.print("skipped: " + ", ".join(f"{n} {why}" for why, n in skipped.items() if n))
    if not report.same:
        raise AuditFailedError("today's translations differ from the recorded outputs")


@audit_app.command("prune")
def prune(
    older_than_days: Annotated[
        int | None,
        typer.Option("--older-than-days", min=0, help="Default: HUB_AUDIT_PAYLOAD_RETENTION_DAYS."),
    ] = None,
) -> None:
    """Drop payloads older than the retention period; the hashes stay and chains still verify."""
    from hub.audit.records import format_time  # noqa: PLC0415 - heavy.

    settings = start_command()
    days = older_than_days if older_than_days is not None else settings.audit_payload_retention_days
    if days is None:
        raise ConfigurationError(
            "--older-than-days: not given and HUB_AUDIT_PAYLOAD_RETENTION_DAYS is unset"
        )
    cutoff = format_time(dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
    with _store(settings) as store:
        pruned = store.prune_payloads(cutoff)
    out.print(f"pruned the payloads of {pruned} record(s) recorded before {cutoff}", markup=False)


@audit_app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint of every chain head now."""
    from hub.audit import open_recorder  # noqa: PLC0415 - heavy.

    settings = start_command()
    recorder = open_recorder(settings)
    try:
        signed = recorder.checkpoint()
    finally:
        recorder.store.close()
    out.print("checkpoint signed" if signed else "nothing to sign: the audit log is empty")
