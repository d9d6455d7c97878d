"""The closing report of `hub ingest kela` names the lines an earlier run dead-lettered."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.kela.file_ingest import IngestSummary
from hub.cli.ingest import _report


@pytest.mark.parametrize(
    ("already", "shown"),
    [
        (0, "  rejected    2\n"),
        (1, "  rejected    2 (1 dead-lettered by an earlier run, not again)\n"),
        (2, "  rejected    2 (2 dead-lettered by an earlier run, not again)\n"),
    ],
)
def test_rejected_line_says_how_many_were_dead_lettered_before(
    capsys: pytest.CaptureFixture[str], already: int, shown: str
) -> None:
    summary = IngestSummary(lines=2, rejected=2, already_dead_lettered=already)
    _report(Path("kela.csv"), summary, dry_run=False)
    assert shown in capsys.readouterr().out
