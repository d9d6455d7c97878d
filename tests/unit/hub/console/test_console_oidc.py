"""Signing in to the console through OpenID Connect, against a real local provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from hub.audit.recorder import AuditRecorder
from hub.audit.store import open_audit_store
from hub.broker.connection import KafkaConnection
from hub.console.app import ConsoleContext, create_app
from hub.console.config import load_console_settings
from hub.console.users import UserStore
from hub.core.settings import load_settings
from tests.oidc_provider import LocalOidcProvider, local_oidc_provider


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Any]:
    def start(provider: LocalOidcProvider) -> TestClient:
        settings = load_settings(data_dir=tmp_path, kafka_bootstrap="127.0.0.1:1")
        console_settings = load_console_settings(
            oidc_issuer=provider.issuer,
            oidc_client_id=provider.client_id,
            oidc_client_secret=provider.client_secret,
        )
        recorder = AuditRecorder(open_audit_store(tmp_path, None), Ed25519PrivateKey.generate())
        users = UserStore.open(tmp_path)
        opened.append((recorder, users))
        context = ConsoleContext(
            settings,
            console_settings,
            KafkaConnection("127.0.0.1:1", settings),
            recorder,
            users,
            None,
        )
        return TestClient(create_app(context), base_url="http://127.0.0.1")

    opened: list[tuple[AuditRecorder, UserStore]] = []
    yield start
    for recorder, users in opened:
        recorder.store.close()
        users.close()


def _through_the_provider(client: TestClient) -> httpx2.Response:
    to_provider = client.get("/login/oidc", follow_redirects=False)
    assert to_provider.status_code == 302
    back = httpx2.get(to_provider.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    callback = back.headers["location"]
    assert callback.startswith("http://127.0.0.1/auth/callback?")
    return client.get(callback.removeprefix("http://127.0.0.1"), follow_redirects=False)


def test_an_auditor_signs_in_through_the_provider(console: Any) -> None:
    claims = {"sub": "u-1", "preferred_username": "aino", "roles": ["auditor"]}
    with local_oidc_provider(claims) as provider, console(provider) as client:
        assert "/login/oidc" in client.get("/login").text
        signed_in = _through_the_provider(client)
        assert signed_in.status_code == 303
        audit = client.get("/audit")
        assert audit.status_code == 200
        assert "aino (auditor)" in audit.text


def test_an_operator_from_the_provider_may_not_audit(console: Any) -> None:
    claims = {"sub": "u-2", "email": "olli@lahti.example", "roles": "operator"}
    with local_oidc_provider(claims) as provider, console(provider) as client:
        assert _through_the_provider(client).status_code == 303
        assert client.get("/audit").status_code == 403
        assert "olli@lahti.example (operator)" in client.get("/referrals").text


def test_someone_without_a_console_role_is_not_let_in(console: Any) -> None:
    claims = {"sub": "u-3", "preferred_username": "vieras", "roles": ["viewer"]}
    with local_oidc_provider(claims) as provider, console(provider) as client:
        refused = _through_the_provider(client)
        assert refused.status_code == 403
        assert "no console role" in refused.text
        assert client.get("/flows", follow_redirects=False).headers["location"] == "/login"


def test_an_id_token_the_provider_key_does_not_vouch_for_is_refused(console: Any) -> None:
    claims = {"sub": "u-4", "preferred_username": "aino", "roles": ["auditor"]}
    with local_oidc_provider(claims, wrong_key=True) as provider, console(provider) as client:
        refused = _through_the_provider(client)
        assert refused.status_code == 403
        assert "sign-in through the provider failed (BadSignatureError)" in refused.text
        assert client.get("/audit", follow_redirects=False).headers["location"] == "/login"
