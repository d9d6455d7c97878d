"""`hub up`'s banner: hub commands need no exported address; tools outside the hub get one."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.app.runtime import HubStatus
from hub.cli.up import _announce


def _banner(capsys: pytest.CaptureFixture[str], *, local: bool) -> str:
    status = HubStatus("127.0.0.1:54459", local, Path("/srv/hub-data"), ("hub.x.v1",), ("kela",))
    _announce(status)
    return capsys.readouterr().out


def test_local_banner_says_hub_commands_find_the_broker_through_the_data_dir(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = " ".join(_banner(capsys, local=True).split())
    assert "Other hub commands with the same HUB_DATA_DIR (/srv/hub-data) find this broker" in text
    assert "For tools outside the hub only (the port changes on every start):" in text
    assert "Point other terminals" not in text
    # The last line stays the one scripts (and the end-to-end fixtures) wait for.
    assert text.endswith("export HUB_KAFKA_BOOTSTRAP=127.0.0.1:54459")


def test_cluster_banner_asks_for_the_same_settings(capsys: pytest.CaptureFixture[str]) -> None:
    text = _banner(capsys, local=False)
    assert "Other hub commands need the same settings:" in text
    assert "HUB_DATA_DIR" not in text.split("Stop with Ctrl-C.")[1]
    assert text.rstrip().endswith("export HUB_KAFKA_BOOTSTRAP=127.0.0.1:54459")


def test_readme_quick_start_says_the_data_dir_must_be_the_same() -> None:
    readme = (Path(__file__).parents[4] / "README.md").read_text(encoding="utf-8")
    paragraph = " ".join(readme.split("In another terminal", 1)[1].split("```", 1)[0].split())
    assert "with the same `HUB_DATA_DIR`" in paragraph
    assert "do not export `HUB_KAFKA_BOOTSTRAP`" in paragraph
