"""The console as the tests drive it over its real ASGI app: its context, the CSRF token of a
page, and signing in."""

from __future__ import annotations

import re
import time
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.testclient import TestClient

from hub.audit.recorder import AuditRecorder
from hub.broker.connection import KafkaConnection
from hub.console.app import ConsoleContext
from hub.console.config import ConsoleSettings
from hub.console.users import UserStore
from hub.core.settings import HubSettings

#: The password the tests give every console user.
PASSWORD: Final = "correct-horse-battery"
_CSRF: Final = re.compile(r'name="csrf" value="([^"]+)"')
#: A person reference as a page must never show one: ``p-`` and 32 hex (the bare ``p-`` also
#: occurs in a page's random CSRF token, about one page in a hundred).
PERSON_REF: Final = re.compile(r"p-[0-9a-f]{32}")


def console_context(
    settings: HubSettings,
    recorder: AuditRecorder,
    users: UserStore,
    public_key: Ed25519PublicKey | None = None,
) -> ConsoleContext:
    """A console on ``settings``' broker with the default console settings and no metrics."""
    connection = KafkaConnection(settings.kafka_bootstrap or "", settings)
    return ConsoleContext(
        settings, ConsoleSettings(), connection, recorder, users, None, public_key
    )


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the form on the page at ``path``."""
    found = _CSRF.search(client.get(path).text)
    assert found is not None
    return found.group(1)


def sign_in(client: TestClient, name: str) -> None:
    """Sign ``name`` in with the tests' password."""
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrf": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def verified(client: TestClient, timeout_s: float = 60.0) -> str:
    """Start the audit verification and return its fragment once it has ended (it runs in
    the background; the page polls ``GET /audit/verify`` as this does)."""
    fragment = client.post("/audit/verify", data={"csrf": csrf_token(client, "/audit")}).text
    deadline = time.monotonic() + timeout_s
    while 'id="progress"' in fragment:
        assert time.monotonic() < deadline, "the verification did not end"
        time.sleep(0.05)
        fragment = client.get("/audit/verify").text
    return fragment
