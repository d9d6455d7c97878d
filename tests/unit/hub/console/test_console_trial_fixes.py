"""What a new user's trial of the console and ``hub deadletters`` found, each fixed at its
boundary: over the real Starlette app, real SQLite stores and the real CLI entry point."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from hub.audit.disclosures import CONSOLE_TOPIC, disclosures_of, render_csv, render_text
from hub.audit.recorder import AuditRecorder
from hub.audit.store import open_audit_store
from hub.broker.connection import KafkaConnection
from hub.cli import main
from hub.console.app import create_app
from hub.console.deadletters import (
    RESUBMIT_TARGETS,
    DeadLetterId,
    EditedPayloadError,
    QuarantinedLetter,
    ResubmitTargetError,
    check_resubmit_target,
    restore_identity_codes,
    resubmit,
)
from hub.console.flows import last_error_of
from hub.console.users import Role, UserStore
from hub.core.settings import load_settings
from hub.core.topics import TOPICS, TopicKind
from schemas.identity_code import validate_identity_code
from schemas.person_ref import person_ref_for
from tests.console_pages import PASSWORD, console_context, csrf_token, sign_in

CODE, OTHER, WRONG = "131052-930V", "100190-999P", "131052-930A"
SECRET = "s" * 40


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[AuditRecorder]:
    made = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    yield made
    made.store.close()


@pytest.fixture
def client(tmp_path: Path, recorder: AuditRecorder) -> Iterator[TestClient]:
    users = UserStore.open(tmp_path)
    users.add("olli", Role.OPERATOR, PASSWORD)
    users.add("aino", Role.AUDITOR, PASSWORD)
    settings = load_settings(
        data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", pseudonym_secret=SECRET
    )
    context = console_context(settings, recorder, users)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as test_client:
        yield test_client
    users.close()


def _letter(topic: str | None, value: bytes = b"{}") -> QuarantinedLetter:
    headers = {"hub-dlq-reason": "implausible-record", "hub-dlq-connector": "kela"}
    if topic is None:
        headers |= {"hub-source-file": "kela.txt", "hub-source-line": "4"}
    else:
        headers |= {
            "hub-source-topic": topic,
            "hub-source-partition": "0",
            "hub-source-offset": "1",
        }
    moment = dt.datetime(2026, 12, 2, 6, 0, 5, tzinfo=dt.UTC)
    return QuarantinedLetter(id=DeadLetterId(2, 3), timestamp=moment, headers=headers, value=value)


# -- 1: an error fragment replaces the previous person's results -----------------------------


def test_htmx_swaps_the_error_fragments_of_4xx_answers(client: TestClient) -> None:
    sign_in(client, "aino")
    page = client.get("/audit").text
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page)
    assert config is not None

    handling = orjson.loads(config.group(1))["responseHandling"]
    four = next(rule for rule in handling if re.fullmatch(rule["code"], "400"))
    assert four["swap"] is True
    assert next(rule for rule in handling if re.fullmatch(rule["code"], "500"))["swap"] is False
    assert next(rule for rule in handling if re.fullmatch(rule["code"], "204"))["swap"] is False


# -- favicon ------------------------------------------------------------------------------


def test_pages_name_an_inline_icon_and_favicon_is_no_404(client: TestClient) -> None:
    assert '<link rel="icon" href="data:,">' in client.get("/login").text
    icon = client.get("/favicon.ico")
    assert (icon.status_code, icon.content) == (204, b"")


# -- 8: a wrong identity code is corrected without seeing it ----------------------------------


def test_a_typed_code_replaces_its_placeholder_and_the_others_keep_theirs() -> None:
    original = f'{{"a": "{WRONG}", "b": "{OTHER}"}}'
    # The operator types the corrected code in place of the first [hetu], keeps the second.
    assert restore_identity_codes(f'{{"a": "{CODE}", "b": "[hetu]"}}', original) == (
        f'{{"a": "{CODE}", "b": "{OTHER}"}}'
    )
    assert restore_identity_codes(f'{{"a": "[hetu]", "b": "{CODE}"}}', original) == (
        f'{{"a": "{WRONG}", "b": "{CODE}"}}'
    )
    # Every place typed anew: nothing to fill in.
    assert restore_identity_codes(f'"{CODE}" "{CODE}"', original) == f'"{CODE}" "{CODE}"'
    # One place too many or too few (typed code plus placeholders) is refused.
    with pytest.raises(EditedPayloadError, match=r"3 identity code place\(s\)"):
        restore_identity_codes(f"{CODE} [hetu] [hetu]", original)
    with pytest.raises(EditedPayloadError, match=r"1 identity code place\(s\)"):
        restore_identity_codes("[hetu]", original)
    # An event id next to a placeholder is no code's place.
    event = "0b6c4c1e-5d1a-4f37-9a44-9c1b2d3e4f50"
    assert restore_identity_codes(f"{event} [hetu]", WRONG) == f"{event} {WRONG}"


def test_the_payload_label_tells_how_to_correct_a_code(client: TestClient) -> None:
    html = (
        Path(__file__).parents[4] / "hub" / "console" / "templates" / "deadletter.html"
    ).read_text()
    assert "type the whole corrected code in place of its [hetu]" in html
    docs = Path(__file__).parents[4] / "docs"
    for name in ("console.md", "operations.md"):
        text = " ".join((docs / name).read_text().split())
        assert "the whole corrected code in place of its `[hetu]`" in text, name


# -- 2: --to names a partner's input topic only -----------------------------------------------


def test_only_partner_input_topics_take_a_resubmission() -> None:
    inbound = [spec.name for spec in TOPICS if spec.kind is TopicKind.INBOUND]
    assert list(RESUBMIT_TARGETS) == inbound
    assert "in.lahti.client-status" in RESUBMIT_TARGETS
    for topic in inbound:
        assert check_resubmit_target(topic) == topic
    for topic in (
        "hub.client-status.v1",
        "out.kela.client-status",
        "hub.deadletter.v1",
        "hub.audit.v1",
        "in.lahti.client-status ",
        "in.nobody.client-status",
        "",
    ):
        with pytest.raises(ResubmitTargetError, match="only be sent to a partner's input topic"):
            check_resubmit_target(topic)  # fmt: skip


def test_resubmit_refuses_a_canonical_target_before_sending(
    tmp_path: Path, recorder: AuditRecorder
) -> None:
    settings = load_settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1")
    connection = KafkaConnection("127.0.0.1:1", settings)
    with pytest.raises(ResubmitTargetError, match=r"'hub\.client-status\.v1'"):
        asyncio.run(
            resubmit(
                connection, recorder, _letter(None), by="olli", reason="dup check",
                to_topic="hub.client-status.v1",
            )
        )  # fmt: skip
    assert recorder.store.record_count() == 0


# -- 12: the console's disclosures read whole in ``hub audit disclosures`` ------------------


def test_console_look_ups_read_whole_in_the_disclosures(
    client: TestClient, recorder: AuditRecorder
) -> None:
    sign_in(client, "aino")
    token = csrf_token(client, "/audit")
    found = client.post(
        "/audit/person",
        data={"person": CODE, "reason": "access request 2026-7", "csrf": token},
    )
    assert found.status_code == 200
    ref = person_ref_for(validate_identity_code(CODE), SECRET.encode())
    (disclosure,) = disclosures_of(recorder.store, ref)
    assert disclosure.topic == CONSOLE_TOPIC
    assert (disclosure.event_id, disclosure.event_type) == ("-", "look-up by person")
    assert disclosure.fields == ("disclosure list (no identity code)",)
    assert disclosure.note == "auditor's reason: access request 2026-7"
    text = render_text([disclosure])
    first = text.splitlines()[0]
    assert first.endswith("to console:aino in the web console")
    assert "  event   -" in text
    assert "  type    look-up by person" in text
    assert "  fields  disclosure list (no identity code)" in text
    assert "  note    auditor's reason: access request 2026-7" in text
    assert "console,-,look-up by person" in render_csv([disclosure])
    assert CODE not in text


# -- flows: a file ingest's dead letter is labelled as the file ingest's ---------------------


def test_a_files_dead_letter_is_labelled_as_the_file_ingests() -> None:
    assert last_error_of(_letter(None)) == (
        "file ingest (kela.txt:4): implausible-record at 2026-12-02 06:00:05 (2:3)"
    )
    assert last_error_of(_letter("in.kela.benefit-day")) == (
        "implausible-record at 2026-12-02 06:00:05 (2:3)"
    )


# -- 13: ``hub console users add``: one line ------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    return tmp_path


def test_an_unknown_role_is_one_plain_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["console", "users", "add", "z", "--role", "admin", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert err == "hub: error: --role: 'admin' is not a console role (operator or auditor)\n"


def test_without_a_terminal_the_password_comes_with_password_stdin(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # getpass's GetPassWarning would fail here
        assert main(["console", "users", "add", "z", "--role", "operator"]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        "hub: error: no terminal to ask for the password: pipe it in with --password-stdin\n"
    )
    assert main(["console", "users", "add", "z", "--role", "operator", "--password-stdin"]) == 0
    assert capsys.readouterr().out == "user z (operator) saved\n"
