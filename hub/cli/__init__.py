"""The ``hub`` command line: rich output, one readable line and a non-zero exit on errors.

Exit codes: 0 success, 1 a command failed, 2 usage or configuration error (or an unusable
input file), 3 some input rejected (``hub ingest``), 130 interrupted.
No traceback reaches the terminal; ``HUB_LOG_LEVEL=debug`` logs it (identity codes masked).
"""

from __future__ import annotations

import sys

import typer

from hub.cli._common import err
from hub.cli.acls_cmd import acls_app
from hub.cli.audit_cmd import audit_app
from hub.cli.console_cmd import console_app
from hub.cli.contracts_cmd import contracts_app
from hub.cli.deadletters_cmd import deadletters_app
from hub.cli.docs_cmd import docs_app
from hub.cli.ingest import ingest_app
from hub.cli.referrals_cmd import referrals_app
from hub.cli.schemas_cmd import schemas_app
from hub.cli.share_cmd import share_app
from hub.cli.stats_cmd import stats_app
from hub.cli.tail_send import send, tail
from hub.cli.topics import topics_app
from hub.cli.up import up
from hub.core.errors import HubError
from hub.core.logs import get_logger
from hub.core.redaction import mask_identity_codes

__all__ = ["app", "entry_point", "main"]

app = typer.Typer(
    name="hub",
    help="Päijät-Häme employment data hub.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("up")(up)
app.command("tail")(tail)
app.command("send")(send)
app.add_typer(topics_app, name="topics")
app.add_typer(schemas_app, name="schemas")
app.add_typer(ingest_app, name="ingest")
app.add_typer(contracts_app, name="contracts")
app.add_typer(referrals_app, name="referrals")
app.add_typer(acls_app, name="acls")
app.add_typer(audit_app, name="audit")
app.add_typer(docs_app, name="docs")
app.add_typer(share_app, name="share")
app.add_typer(stats_app, name="stats")
app.add_typer(deadletters_app, name="deadletters")
app.add_typer(console_app, name="console")


def _fail(message: str, code: int) -> int:
    err.print(f"hub: error: {mask_identity_codes(message)}", markup=False)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hub`` console script; returns the exit code.

    Usage errors are typer's own (exit 2); the hub's errors become one line here.
    """
    try:
        app(args=argv, prog_name="hub", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except HubError as exc:
        return _fail(str(exc), exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, never a traceback.
        get_logger("hub.cli").debug("unexpected error", exc_info=True)
        return _fail(f"unexpected {type(exc).__name__}: {exc}", 1)
    return 0


def entry_point() -> None:
    """Console-script wrapper: exit with ``main``'s code."""
    sys.exit(main())
