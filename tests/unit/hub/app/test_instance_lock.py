"""One running hub per instance name and data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.app.instance_lock import hold_instance
from hub.core.errors import ConfigurationError


def test_a_second_hold_of_one_instance_is_refused_in_one_line(tmp_path: Path) -> None:
    with (
        hold_instance(tmp_path, "hub-1"),
        pytest.raises(ConfigurationError) as refused,
        hold_instance(tmp_path, "hub-1"),
    ):
        pass
    assert str(refused.value).startswith("HUB_INSTANCE_ID: another hub runs as instance 'hub-1'")
    assert "\n" not in str(refused.value)


def test_two_instances_share_a_data_directory(tmp_path: Path) -> None:
    with hold_instance(tmp_path, "hub-1"), hold_instance(tmp_path, "hub-2"):
        assert sorted(p.name for p in tmp_path.glob("instance-*.lock")) == [
            "instance-hub-1.lock",
            "instance-hub-2.lock",
        ]


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    with hold_instance(tmp_path, "hub-1"):
        pass
    with hold_instance(tmp_path, "hub-1"):
        pass
    with hold_instance(tmp_path / "other", "hub-1"):
        pass
