"""The console's access rules over its real ASGI app, real SQLite stores and real Argon2.

No Kafka is needed: every request here is answered before a page would read a topic (sign-in,
refusals by role or CSRF) or reads only the audit store.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from hub.audit.recorder import AuditRecorder
from hub.audit.records import AuditDraft, Direction
from hub.audit.signing import load_or_create_signing_key
from hub.audit.store import open_audit_store
from hub.broker.connection import KafkaConnection
from hub.cli import main
from hub.console.app import ConsoleContext, create_app
from hub.console.config import ConsoleSettings, is_loopback, load_console_settings
from hub.console.flows import flows_from_text, with_last_errors
from hub.console.oidc import discovery_url, role_from_claims, user_from_claims
from hub.console.security import CONTENT_SECURITY_POLICY
from hub.console.server import ConsoleListenError, listening_socket, run_console
from hub.console.users import MIN_PASSWORD, Role, User, UserStore
from hub.core.errors import ConfigurationError
from hub.core.metrics import HubMetrics
from hub.core.settings import load_settings
from tests.console_pages import PASSWORD, console_context, csrf_token, sign_in, verified

CODE = "131052-930V"


@pytest.fixture
def users(tmp_path: Path) -> Iterator[UserStore]:
    store = UserStore.open(tmp_path)
    store.add("olli", Role.OPERATOR, PASSWORD)
    store.add("aino", Role.AUDITOR, PASSWORD)
    yield store
    store.close()


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[AuditRecorder]:
    recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    yield recorder
    recorder.store.close()


@pytest.fixture
def client(tmp_path: Path, users: UserStore, recorder: AuditRecorder) -> Iterator[TestClient]:
    settings = load_settings(
        data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1", pseudonym_secret="s" * 40
    )
    context = console_context(settings, recorder, users)
    with TestClient(create_app(context), base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_passwords_are_argon2_hashed_and_checked(tmp_path: Path, users: UserStore) -> None:
    assert users.authenticate("olli", PASSWORD) == User("olli", Role.OPERATOR)
    assert users.authenticate("olli", PASSWORD + "x") is None
    assert users.authenticate("nobody", PASSWORD) is None
    raw = (tmp_path / "console-users.sqlite3").read_bytes()
    assert PASSWORD.encode() not in raw
    assert b"$argon2id$" in raw
    assert users.names() == [("aino", Role.AUDITOR), ("olli", Role.OPERATOR)]


def test_passwords_shorter_than_the_minimum_are_refused(users: UserStore) -> None:
    with pytest.raises(ConfigurationError, match=f"at least {MIN_PASSWORD}"):
        users.add("short", Role.OPERATOR, "p" * (MIN_PASSWORD - 1))
    users.add("exact", Role.OPERATOR, "p" * MIN_PASSWORD)
    assert users.authenticate("exact", "p" * MIN_PASSWORD) == User("exact", Role.OPERATOR)
    for name in ("", " ", "n" * 65):
        with pytest.raises(ConfigurationError, match="1 to 64 printable"):
            users.add(name, Role.OPERATOR, PASSWORD)
    users.add("n" * 64, Role.AUDITOR, PASSWORD)


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/login")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in response.headers  # no TLS here
    assert client.get("/static/htmx.min.js").status_code == 200


def test_a_post_without_the_session_token_is_refused(client: TestClient) -> None:
    csrf_token(client)
    no_token = client.post("/login", data={"name": "olli", "password": PASSWORD})
    assert no_token.status_code == 403
    wrong = client.post("/login", data={"name": "olli", "password": PASSWORD, "csrf": "x"})
    assert wrong.status_code == 403
    assert "olli" not in client.get("/login").text


def test_the_session_cookie_is_http_only_and_lax(client: TestClient) -> None:
    response = client.get("/login")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_wrong_passwords_get_one_answer(client: TestClient) -> None:
    token = csrf_token(client)
    for name in ("olli", "nobody"):
        response = client.post("/login", data={"name": name, "password": "x" * 20, "csrf": token})
        assert response.status_code == 401
        assert "Sign-in failed." in response.text


def test_pages_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("/", "/flows", "/deadletters", "/audit", "/referrals"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/login"


def test_operators_cannot_reach_the_audit_or_identity_codes(client: TestClient) -> None:
    sign_in(client, "olli")
    assert client.get("/audit").status_code == 403
    token = csrf_token(client, "/referrals")
    reveal = client.post("/deadletters/0:0/reveal", data={"reason": "why", "csrf": token})
    assert reveal.status_code == 403
    person = client.post("/audit/person", data={"person": CODE, "reason": "x", "csrf": token})
    assert person.status_code == 403
    assert CODE not in person.text


def test_auditors_look_people_up_only_with_a_reason_and_each_time_on_record(
    client: TestClient,
) -> None:
    sign_in(client, "aino")
    page = client.get("/audit")
    assert page.status_code == 200
    token = csrf_token(client, "/audit")
    refused = client.post("/audit/person", data={"person": CODE, "reason": " ", "csrf": token})
    assert refused.status_code == 400
    assert "A reason is required" in refused.text
    bad = client.post("/audit/person", data={"person": "131052-930A", "reason": "r", "csrf": token})
    assert bad.status_code == 400
    assert "Not a valid identity code" in bad.text
    for expected in (1, 2):
        found = client.post(
            "/audit/person", data={"person": CODE, "reason": "access request", "csrf": token}
        )
        assert found.status_code == 200
        assert CODE not in found.text
        assert found.text.count("console:aino") == expected  # every look-up is recorded
    operators = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert operators.status_code == 303


def test_the_audit_page_lists_the_newest_checkpoints_and_counts_all(
    client: TestClient, recorder: AuditRecorder
) -> None:
    for n in range(22):
        recorder.record("in.example/0", [AuditDraft(Direction.CONSUMED, b"{}", "in.example", 0, n)])
        assert recorder.checkpoint()
    sign_in(client, "aino")
    page = client.get("/audit").text
    assert "22 signed checkpoint(s)" in page
    listed = re.search(r'<table id="checkpoints">(.*?)</table>', page, re.S)
    assert listed is not None
    ids = [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", listed.group(1))]
    assert ids == list(range(22, 2, -1))  # the newest 20, newest first


def test_the_audit_page_verifies_the_chains(client: TestClient) -> None:
    sign_in(client, "aino")
    token = csrf_token(client, "/audit")
    verified = client.post("/audit/verify", data={"csrf": token})
    assert verified.status_code == 200
    # No public key in this data directory: the page says what to configure.
    assert "No trusted public key" in verified.text


def _verify_pages(
    tmp_path: Path,
    users: UserStore,
    anchor_file: Path | None,
    checkpointed: bool,
    bootstrap: str = "127.0.0.1:1",
) -> tuple[str, str]:
    """The verify fragment of a console whose broker does not answer (by default: is not
    there, connection refused), as the button returns it and once the job has ended."""
    settings = load_settings(
        data_dir=tmp_path,
        kafka_bootstrap=bootstrap,
        kafka_connect_timeout_s=0.2,
        audit_anchor_file=anchor_file,
    )
    key = Ed25519PrivateKey.generate()
    recorder = AuditRecorder(open_audit_store(tmp_path, None), key)
    recorder.record("in.example/0", [AuditDraft(Direction.CONSUMED, b"{}", "in.example", 0, 1)])
    if checkpointed:
        assert recorder.checkpoint()
    context = console_context(settings, recorder, users, key.public_key())
    try:
        with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
            sign_in(client, "aino")
            started = client.post("/audit/verify", data={"csrf": csrf_token(client, "/audit")})
            return started.text, verified(client)
    finally:
        recorder.store.close()


def _verify_page(
    tmp_path: Path, users: UserStore, anchor_file: Path | None, checkpointed: bool
) -> str:
    return _verify_pages(tmp_path, users, anchor_file, checkpointed)[1]


def test_while_the_anchors_are_read_the_page_says_so(tmp_path: Path, users: UserStore) -> None:
    # A broker that takes connections and does not answer holds the job on the anchors until
    # HUB_KAFKA_CONNECT_TIMEOUT_S; the job then ends without a verdict.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        bootstrap = f"127.0.0.1:{silent.getsockname()[1]}"
        started, ended = _verify_pages(
            tmp_path, users, tmp_path / "anchors.jsonl", checkpointed=False, bootstrap=bootstrap
        )
    assert "Reading the checkpoint anchors (hub.audit.v1, the anchor file), started" in started
    assert "Verifying:" not in started
    assert (
        f"Not verified: Kafka at {bootstrap} is not reachable: took the connection, did not "
        "answer (tried for 0.2 s; HUB_KAFKA_CONNECT_TIMEOUT_S)"
    ) in ended


def test_verify_gives_no_verdict_when_the_anchor_file_cannot_be_read(
    tmp_path: Path, users: UserStore
) -> None:
    # The store has checkpoints, so the hub has anchored them: a missing file is not empty.
    gone = tmp_path / "witness" / "anchors.jsonl"
    page = _verify_page(tmp_path, users, gone, checkpointed=True)
    assert f"Not verified: anchor file: cannot read {gone}" in page
    assert "Holds" not in page


def test_verify_gives_no_verdict_when_the_topics_anchors_cannot_be_read(
    tmp_path: Path, users: UserStore
) -> None:
    # No checkpoint yet: the missing anchor file holds nothing, and the topic is asked next.
    page = _verify_page(tmp_path, users, tmp_path / "anchors.jsonl", checkpointed=False)
    assert "Not verified: Kafka at 127.0.0.1:1 is not reachable" in page
    assert "Holds" not in page


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("10.0.0.5", False), ("console.example", False)],  # noqa: S104
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_beyond_loopback_needs_tls(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="beyond loopback"):
        load_console_settings(host="0.0.0.0")  # noqa: S104
    with pytest.raises(ConfigurationError, match="go together"):
        load_console_settings(tls_cert_file=tmp_path / "c.pem")
    secured = load_console_settings(
        host="0.0.0.0",  # noqa: S104
        tls_cert_file=tmp_path / "c.pem",
        tls_key_file=tmp_path / "k.pem",
    )
    assert secured.tls
    with pytest.raises(ConfigurationError, match="OIDC_CLIENT_ID"):
        load_console_settings(oidc_issuer="https://idp.example/realms/lahti")


def test_hub_console_refuses_an_open_address_in_one_line(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_CONSOLE_HOST", "0.0.0.0")  # noqa: S104
    assert main(["console"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hub: error: HUB_CONSOLE_HOST=0.0.0.0 is beyond loopback")
    assert len(err.strip().splitlines()) == 1


def test_oidc_roles_come_from_the_configured_claim() -> None:
    assert discovery_url("https://idp.example/realms/lahti/") == (
        "https://idp.example/realms/lahti/.well-known/openid-configuration"
    )
    assert role_from_claims({"roles": ["operator"]}, "roles") is Role.OPERATOR
    assert role_from_claims({"roles": "operator auditor"}, "roles") is Role.AUDITOR
    assert role_from_claims({"roles": ["viewer"]}, "roles") is None
    assert role_from_claims({"groups": ["auditor"]}, "roles") is None
    assert role_from_claims({"groups": ["auditor"]}, "groups") is Role.AUDITOR
    assert user_from_claims({"preferred_username": "olli", "roles": ["operator"]}, "roles") == (
        User("olli", Role.OPERATOR)
    )
    assert user_from_claims({"sub": "x1", "roles": ["auditor"]}, "roles") == User(
        "x1", Role.AUDITOR
    )
    assert user_from_claims({"roles": ["auditor"]}, "roles") is None
    assert user_from_claims({"sub": "x1"}, "roles") is None


def test_an_oidc_console_offers_the_providersign_in(tmp_path: Path, users: UserStore) -> None:
    settings = load_settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1")
    console = load_console_settings(
        oidc_issuer="https://idp.example/realms/lahti",
        oidc_client_id="hub-console",
        oidc_client_secret="s3cret",
    )
    recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
    context = ConsoleContext(
        settings, console, KafkaConnection("127.0.0.1:1", settings), recorder, users, None
    )
    with TestClient(create_app(context), base_url="http://127.0.0.1") as client:
        assert "/login/oidc" in client.get("/login").text
    recorder.store.close()


def test_flows_are_read_from_the_hubs_metrics() -> None:
    metrics = HubMetrics()
    metrics.observe("lahti.client-status", 0.01, [("hub.client-status.v1", None)], not_routed=False)
    metrics.observe(
        "lahti.client-status", 0.01, [("hub.deadletter.v1", "bad-date")], not_routed=False
    )
    metrics.observe("ph.client-status", 0.01, [], not_routed=True)
    metrics.lag.labels("hub.lahti.client-status", "in.lahti.client-status", "0").set(3)
    metrics.lag.labels("hub.lahti.client-status", "in.lahti.client-status", "1").set(4)
    metrics.stalled.labels("ph.client-status").set(1)
    metrics.ready.set(1)
    view = flows_from_text(metrics.render().decode())
    by_route = {flow.route: flow for flow in view.routes}
    lahti, ph = by_route["lahti.client-status"], by_route["ph.client-status"]
    assert (lahti.consumed, lahti.produced, lahti.dead_lettered, lahti.not_routed) == (2, 1, 1, 0)
    assert lahti.produced_to == {"hub.client-status.v1": 1}
    assert (ph.consumed, ph.not_routed, ph.health, lahti.health) == (1, 1, "stalled", "ok")
    assert [(lag.group, lag.topic, lag.lag) for lag in view.lags] == [
        ("hub.lahti.client-status", "in.lahti.client-status", 7)
    ]
    assert view.ready is True
    with_last_errors(view, [("lahti.client-status", "bad-date at …"), ("kela", "bad-line")])
    assert [flow.route for flow in view.routes] == [
        "kela",
        "lahti.client-status",
        "ph.client-status",
    ]
    assert by_route["lahti.client-status"].last_error == "bad-date at …"


def test_a_taken_port_is_one_line_and_nothing_left_open(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1")
    taken = listening_socket("127.0.0.1", 0)
    taken.listen()
    port = taken.getsockname()[1]
    try:
        with pytest.raises(ConsoleListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            asyncio.run(run_console(settings, ConsoleSettings(port=port), asyncio.Event(), None))
    finally:
        taken.close()
    # Free again: the console binds it and stops when told.
    urls: list[str] = []
    load_or_create_signing_key(None, tmp_path, may_generate=True)

    async def serve_then_stop() -> None:
        stop = asyncio.Event()
        await run_console(
            settings,
            ConsoleSettings(port=port),
            stop,
            None,
            lambda url: (urls.append(url), stop.set()),
        )

    asyncio.run(serve_then_stop())
    assert urls == [f"http://127.0.0.1:{port}/"]
