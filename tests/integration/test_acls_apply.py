"""``hub acls generate --apply`` against a broker that has no authorizer: one line, exit 1.

tests/security applies the ACLs to a cluster that enforces them; the integration broker runs
without an authorizer, which Kafka answers with SECURITY_DISABLED.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import hub_env, run_hub

pytestmark = pytest.mark.integration


def test_applying_acls_to_a_broker_without_an_authorizer_is_one_line(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    env = hub_env(tmp_path / "data", HUB_KAFKA_BOOTSTRAP=kafka_bootstrap)
    result = run_hub("acls", "generate", "--apply", env=env)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert lines == [
        "hub: error: Kafka refused to create ACL READ on group hub. for User:hub: "
        "SECURITY_DISABLED (error 54): No Authorizer is configured."
    ]
    assert result.stdout.startswith("User:hub")  # the ACLs were printed before applying
