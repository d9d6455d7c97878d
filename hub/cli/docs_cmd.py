"""``hub docs generate|check``: the parts of docs/ that are generated from the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli._common import err, out, start_command

__all__ = ["docs_app"]

docs_app = typer.Typer(
    help="Generated parts of docs/ (settings table, partners' ACLs).", no_args_is_help=True
)

DocsOption = Annotated[
    Path, typer.Option("--docs", help="The docs folder of a checkout of this repository.")
]


def _rendered(docs: Path) -> dict[Path, tuple[str, str]]:
    from connectors import CONNECTORS  # noqa: PLC0415 - keeps `hub --help` fast.
    from hub.app.runtime import contract_book_for  # noqa: PLC0415 - the same.
    from hub.spec.doc_sections import render_docs  # noqa: PLC0415 - the same.

    return render_docs(docs, contract_book_for(start_command(), CONNECTORS))


@docs_app.command("generate")
def generate(docs: DocsOption = Path("docs")) -> None:
    """Rewrite the generated parts of the files under DOCS."""
    for path, (current, generated) in _rendered(docs).items():
        if current != generated:
            path.write_text(generated, encoding="utf-8")
            out.print(f"wrote {path}", markup=False)


@docs_app.command("check")
def check(docs: DocsOption = Path("docs")) -> None:
    """Fail (exit 1) when a generated part of DOCS differs from what the code says."""
    stale = [path for path, (current, generated) in _rendered(docs).items() if current != generated]
    for path in stale:
        err.print(f"{path} is out of date", markup=False)
    if stale:
        err.print("run `hub docs generate` and commit the result", markup=False)
        raise typer.Exit(1)
    out.print("generated docs match the code")
