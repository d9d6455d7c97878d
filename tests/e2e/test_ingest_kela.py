"""``hub ingest kela`` as an administrator runs it, against a running ``hub up``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import RunningHub, hub_env, run_hub

pytestmark = pytest.mark.e2e

StartHub = Callable[..., RunningHub]
HEADER = (
    "\ufefftapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;maksettu;"
    "kertyma;maksupvm;korjattava"
)
CODES = ("131052-930V", "010105B9789")


def _line(record: str, code: str, municipality: str, extra: str = "") -> str:
    return (
        f"{record};{code};{municipality};TMT;01.03.2025;31.03.2025;21;737,55;1021;05.04.2025;"
        f"{extra}"
    )


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\r\n".join([HEADER, *lines]) + "\r\n", encoding="utf-8")
    return path


def test_ingest_publishes_routes_and_reports_with_exit_codes(
    start_hub: StartHub, tmp_path: Path
) -> None:
    hub = start_hub()
    hub.wait_ready()
    good = _write(
        tmp_path / "kela-2025-04.csv",
        _line("K2025-000000001", CODES[0], "398"),
        _line("K2025-000000002", CODES[1], "098"),
        _line("K2025-000000003", CODES[0], "091"),
    )
    dry = run_hub("ingest", "kela", str(good), "--dry-run", env=hub.env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing was published" in dry.stdout

    result = run_hub("ingest", "kela", str(good), env=hub.env)
    assert result.returncode == 0, result.stderr
    assert "accepted    3 (corrections 0)" in result.stdout
    assert "recipients  lahti 1, ph 1, not routed 1" in result.stdout

    again = run_hub("ingest", "kela", str(good), env=hub.env)
    assert again.returncode == 0
    assert "duplicates  3" in again.stdout

    mixed = _write(
        tmp_path / "kela-2025-05.csv",
        _line("K2025-000000004", CODES[0], "398"),
        _line("K2025-000000005", CODES[0], "398").replace("737,55", "737.55"),
        _line("K2025-000000006", CODES[0], "398", extra="K2025-999999999").replace(
            ";21;737,55;", ";-2;-70,24;"
        ),
    )
    partly = run_hub("ingest", "kela", str(mixed), env=hub.env)
    assert partly.returncode == 3, partly.stderr
    assert "line 3: decimal-point-not-comma" in partly.stdout
    assert "line 4: unknown-corrected-record" in partly.stdout

    lahti = run_hub(
        "tail", "out.lahti.benefit-day", "--from-beginning", "--count", "2",
        "--timeout", "30", "--json", env=hub.env,
    )  # fmt: skip
    assert lahti.returncode == 0, lahti.stderr
    values = [json.loads(json.loads(line)["value"]) for line in lahti.stdout.splitlines()]
    assert sorted(v["data"]["record_id"] for v in values) == ["K2025-000000001", "K2025-000000004"]
    ph = run_hub(
        "tail", "out.ph.benefit-day", "--from-beginning", "--count", "1",
        "--timeout", "30", "--json", env=hub.env,
    )  # fmt: skip
    [to_ph] = [json.loads(json.loads(line)["value"]) for line in ph.stdout.splitlines()]
    assert to_ph["data"]["record_id"] == "K2025-000000002"
    assert to_ph["data"]["home_municipality"] == "098"
    letters = run_hub(
        "tail", "hub.deadletter.v1", "--from-beginning", "--count", "2",
        "--timeout", "30", "--json", env=hub.env,
    )  # fmt: skip
    reasons = {
        json.loads(line)["headers"]["hub-dlq-reason"] for line in letters.stdout.splitlines()
    }
    assert reasons == {"decimal-point-not-comma", "unknown-corrected-record"}

    # The same broker as "a real cluster", without the audit signing key it then needs: one
    # line, exit 2, and no Kafka client left open behind it.
    elsewhere = hub_env(
        tmp_path / "no-key",
        HUB_KAFKA_BOOTSTRAP=hub.bootstrap,
        HUB_PSEUDONYM_SECRET="ingest-test-pseudonym-secret-0123456789",
    )
    keyless = run_hub("ingest", "kela", str(good), env=elsewhere)
    assert keyless.returncode == 2, keyless.stderr
    assert "hub: error: HUB_AUDIT_SIGNING_KEY_FILE: required" in keyless.stderr
    assert "Unclosed" not in keyless.stderr

    assert hub.stop() == 0
    # Every line of every (non-dry) run is audited on the file's chain, with what it became.
    export = tmp_path / "audit-export"
    exported = run_hub("audit", "export", "--out", str(export), env=hub.env)
    assert exported.returncode == 0, exported.stderr
    lines = [json.loads(line) for line in (export / "records.jsonl").read_text().splitlines()]
    from_file = [r for r in lines if r["chain"] == "file/kela"]
    consumed = [r for r in from_file if r["direction"] == "consumed"]
    assert len(consumed) == 3 + 3 + len(mixed.read_bytes().splitlines()) - 1
    assert sum(r["direction"] == "dead-lettered" for r in from_file) == 2
    assert all(r["offset"] >= 2 for r in consumed)  # line numbers: the header is line 1
    verified = run_hub("audit", "verify", env=hub.env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for output in (hub.stderr(), result.stderr, partly.stderr, lahti.stderr):
        for code in CODES:
            assert code not in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot open"),
        (b"", "empty file"),
        (b"tapahtumatunnus;hetu\r\n", "line 1: "),
        (HEADER.encode() + b"\r\nK1;\xe4\xe4;398\r\n", "not UTF-8 at line 2"),
    ],
)
def test_unusable_file_exits_2_with_one_line(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "kela.csv"
    if content is not None:
        path.write_bytes(content)
    result = run_hub("ingest", "kela", str(path), "--dry-run", env=hub_env(tmp_path / "data"))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("hub: error: ")
    assert message in line


def test_a_correction_reaches_the_authority_of_the_record_it_corrects(
    start_hub: StartHub, tmp_path: Path
) -> None:
    hub = start_hub(HUB_KELA_DATA_START="2025-01-01")
    hub.wait_ready()
    code = CODES[0]
    period = "01.02.2025;28.02.2025"
    corrections = _write(
        tmp_path / "kela-2025-03.csv",
        f"K2025-000000011;{code};398;TMT;{period};20;737,55;120;03.03.2025;",
        # states Hollola (the person moved): still Lahti's, which paid the record
        f"K2025-000000012;{code};098;TMT;{period};-20;-737,55;100;17.03.2025;K2025-000000011",
        f"K2025-000000013;{code};098;TMT;{period};-1;-36,88;99;24.03.2025;K2025-000000011",
        # a record paid before the hub began receiving Kela's data: by its own kotikunta
        f"K2025-000000014;{code};098;TMT;01.12.2024;31.12.2024;-1;-36,88;99;15.01.2025;K2024-1",
    )
    result = run_hub("ingest", "kela", str(corrections), env=hub.env)
    assert result.returncode == 3, result.stderr
    assert "accepted    3 (corrections 2)" in result.stdout
    assert "line 4: over-correction" in result.stdout

    def tail(topic: str, count: int) -> list[dict[str, object]]:
        read = run_hub(
            "tail", topic, "--from-beginning", "--count", str(count),
            "--timeout", "30", "--json", env=hub.env,
        )  # fmt: skip
        assert read.returncode == 0, read.stderr
        return [json.loads(json.loads(line)["value"])["data"] for line in read.stdout.splitlines()]

    to_lahti = tail("out.lahti.benefit-day", 2)
    assert [(d["record_id"], d["home_municipality"]) for d in to_lahti] == [
        ("K2025-000000011", "398"),
        ("K2025-000000012", "398"),
    ]
    assert to_lahti[1]["stated_home_municipality"] == "098"
    [to_ph] = tail("out.ph.benefit-day", 1)
    assert (to_ph["record_id"], to_ph["corrects_unseen_record"]) == ("K2025-000000014", True)
    assert hub.stop() == 0
    for output in (hub.stderr(), result.stdout, result.stderr):
        assert code not in output
