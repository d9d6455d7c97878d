"""``hub up`` under an instance name another hub already runs as on the data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.app.instance_lock import hold_instance
from tests.e2e.conftest import hub_env, run_hub

pytestmark = pytest.mark.e2e


def test_a_hub_under_a_name_already_running_on_the_data_dir_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = hub_env(
        data_dir,
        HUB_KAFKA_BOOTSTRAP="127.0.0.1:1",
        HUB_KAFKA_CONNECT_TIMEOUT_S="1",
        HUB_PSEUDONYM_SECRET="e2e-pseudonym-secret-0123456789abcdefghij",
        HUB_INSTANCE_ID="hub-1",
        HUB_LOG_LEVEL="info",
    )
    with hold_instance(data_dir, "hub-1"):
        result = run_hub("up", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"hub: error: HUB_INSTANCE_ID: another hub runs as instance 'hub-1' on {data_dir}; "
        "give each hub that shares a data directory an HUB_INSTANCE_ID of its own"
    ]
