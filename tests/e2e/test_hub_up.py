"""``hub up`` on its local Apache Kafka, driven through the CLI like an administrator would."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from hub.core.topics import TOPICS
from tests.e2e.conftest import RunningHub, run_hub, wait_dead

pytestmark = pytest.mark.e2e

StartHub = Callable[..., RunningHub]
# Temporary individual numbers only (900-999); one with a 2023 century sign.
CODES = ("131052-930V", "010105B9789")


def test_up_announces_and_serves_topics_send_and_tail_then_ctrl_c_leaves_nothing(
    start_hub: StartHub, tmp_path: Path
) -> None:
    hub = start_hub()
    hub.wait_ready()
    assert hub.bootstrap.startswith("127.0.0.1:")
    assert hub.broker_pid > 0
    stdout = hub.stdout()
    assert "hub is up on the local Apache Kafka" in stdout
    assert str(tmp_path / "data0") in stdout
    for spec in TOPICS:
        assert spec.name in stdout

    # Another terminal: no HUB_KAFKA_BOOTSTRAP needed, the data dir tells where the broker is.
    listed = run_hub("topics", "list", env=hub.env)
    assert listed.returncode == 0, listed.stderr
    for spec in TOPICS:
        assert spec.name in listed.stdout
    assert "missing" not in listed.stdout

    messages = tmp_path / "messages.jsonl"
    messages.write_text(
        "".join(f'{{"hetu": "{code}", "n": {n}}}\n' for n, code in enumerate(CODES)),
        encoding="utf-8",
    )
    sent = run_hub("send", "in.lahti.client-status", str(messages), "--lines", env=hub.env)
    assert sent.returncode == 0, sent.stderr
    assert "sent 2 message(s) to in.lahti.client-status" in sent.stdout
    piped = run_hub("send", "in.ph.client-status", "-", env=hub.env, stdin=b'{"from": "stdin"}\n')
    assert piped.returncode == 0, piped.stderr

    tailed = run_hub(
        "tail", "in.lahti.client-status", "--from-beginning", "--count", "2",
        "--timeout", "20", "--json", env=hub.env,
    )  # fmt: skip
    assert tailed.returncode == 0, tailed.stderr
    assert tailed.stdout.count('"topic": "in.lahti.client-status"') == 2
    assert tailed.stdout.count("[hetu]") == 2
    revealed = run_hub(
        "tail", "in.lahti.client-status", "--from-beginning", "--count", "2",
        "--timeout", "20", "--reveal", env=hub.env,
    )  # fmt: skip
    assert revealed.returncode == 0, revealed.stderr
    for code in CODES:
        assert code in revealed.stdout
        assert code not in tailed.stdout
    from_stdin = run_hub(
        "tail", "in.ph.client-status", "--from-beginning", "-n", "1", "--timeout", "20",
        env=hub.env,
    )  # fmt: skip
    assert '"from": "stdin"' in from_stdin.stdout

    assert hub.stop(signal.SIGINT) == 0
    assert wait_dead(hub.broker_pid), "Ctrl-C left the broker running"
    assert "hub stopped" in hub.stdout()
    assert not (tmp_path / "data0" / "local-broker.json").exists()

    # Started again on the same data directory: the broker's log directory kept every record.
    again = start_hub(data_dir=tmp_path / "data0")
    again.wait_ready()
    assert again.bootstrap != ""
    kept = run_hub(
        "tail", "in.lahti.client-status", "--from-beginning", "--count", "2",
        "--timeout", "20", "--json", env=again.env,
    )  # fmt: skip
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.count('"topic": "in.lahti.client-status"') == 2
    assert again.stop(signal.SIGINT) == 0
    assert wait_dead(again.broker_pid)
    # The whole run logged at debug level; no identity code in any line of any command.
    for output in (hub.stderr(), listed.stderr, sent.stderr, tailed.stderr):
        for code in CODES:
            assert code not in output


def test_sigterm_stops_cleanly(start_hub: StartHub) -> None:
    hub = start_hub()
    hub.wait_ready()
    assert hub.stop(signal.SIGTERM) == 0
    assert wait_dead(hub.broker_pid)


def test_sigkill_of_the_hub_takes_the_broker_with_it(start_hub: StartHub) -> None:
    hub = start_hub()
    hub.wait_ready()
    hub.stop(signal.SIGKILL)
    assert wait_dead(hub.broker_pid), "the broker outlived a SIGKILLed hub"


def test_second_hub_on_the_same_data_dir_is_refused(start_hub: StartHub, tmp_path: Path) -> None:
    first = start_hub()
    first.wait_ready()
    second = start_hub(data_dir=tmp_path / "data0")
    assert second.process.wait(30) == 2
    assert "already runs on" in second.stderr()
    assert first.process.poll() is None
    assert first.stop() == 0


def test_invalid_setting_stops_up_with_one_line(tmp_path: Path) -> None:
    from tests.e2e.conftest import hub_env  # noqa: PLC0415

    result = run_hub("up", env=hub_env(tmp_path, HUB_LOG_LEVEL="chatty"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "hub: error: HUB_LOG_LEVEL: Input should be 'debug', 'info', 'warning' or 'error'"
    ]
    assert result.stdout == ""


def test_real_cluster_without_pseudonym_secret_is_refused(tmp_path: Path) -> None:
    from tests.e2e.conftest import hub_env  # noqa: PLC0415

    result = run_hub("up", env=hub_env(tmp_path, HUB_KAFKA_BOOTSTRAP="127.0.0.1:1"))
    assert result.returncode == 2
    assert "HUB_PSEUDONYM_SECRET: required" in result.stderr
    assert "Traceback" not in result.stderr
