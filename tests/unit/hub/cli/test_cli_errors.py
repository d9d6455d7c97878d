"""CLI errors: one readable line, a non-zero exit, no traceback, no identity code."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli import main

CODE = "131052-930V"

pytestmark = pytest.mark.usefixtures("restore_logging", "cli_env")


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_invalid_setting_exits_2_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_TOPIC_PARTITIONS", "many")
    assert main(["topics", "list"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("hub: error: HUB_TOPIC_PARTITIONS:")


def test_no_broker_configured_or_running_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tail", "hub.deadletter.v1"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "HUB_KAFKA_BOOTSTRAP: not set and no local broker is running" in line
    assert "hub up" in line


def test_unreachable_broker_is_one_line_after_the_retry_warnings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("HUB_KAFKA_CONNECT_TIMEOUT_S", "0.5")
    assert main(["topics", "list"]) == 1
    err = capsys.readouterr().err
    # JSON log records (HUB_LOG_FORMAT=json) say what is tried while it retries.
    assert '"event": "Kafka not reachable: retrying"' in err.splitlines()[0]
    line = _one_error_line("\n".join(x for x in err.splitlines() if not x.startswith("{")))
    assert line.startswith("hub: error: Kafka at 127.0.0.1:1 is not reachable: connection refused")


def test_identity_code_as_key_is_refused_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    messages = tmp_path / "m.txt"
    messages.write_text("{}\n", encoding="utf-8")
    assert main(["send", "in.lahti.client-status", str(messages), "--key", CODE]) == 1
    err = capsys.readouterr().err
    assert "looks like a personal identity code" in _one_error_line(err)
    assert CODE not in err


def test_missing_input_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    assert main(["send", "in.lahti.client-status", str(tmp_path / "absent.txt")]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith("hub: error: cannot read")


def test_schema_drift_fails_check_with_a_hint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["schemas", "export", "--dir", str(tmp_path)]) == 0
    assert main(["schemas", "check", "--dir", str(tmp_path)]) == 0
    victim = next(tmp_path.glob("*.schema.json"))
    victim.write_text(victim.read_text(encoding="utf-8").replace('"type"', '"typo"', 1))
    capsys.readouterr()
    assert main(["schemas", "check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "run `hub schemas export`" in err
    assert victim.name in err


def test_unknown_command_is_a_usage_error() -> None:
    assert main(["frobnicate"]) == 2
