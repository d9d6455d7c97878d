"""Kafka client configuration derived from settings, for aiokafka and FastStream alike.

The only place that turns TLS/SASL settings into client arguments, so the local broker and
a real cluster differ by configuration only.
"""

from __future__ import annotations

import json
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.core.errors import ConfigurationError
from hub.core.private_files import private_directory, private_file
from hub.core.settings import HubSettings, sasl_password

__all__ = [
    "LOCAL_STATE_FILE",
    "KafkaConnection",
    "bootstrap_servers",
    "connection_for",
    "read_local_state",
    "write_local_state",
]

#: Written by ``hub up`` on its local broker so other commands in other terminals find it.
LOCAL_STATE_FILE = "local-broker.json"


def bootstrap_servers(bootstrap: str) -> list[str]:
    """The servers of a bootstrap list (``host:port,host:port``), one by one."""
    return [server.strip() for server in bootstrap.split(",") if server.strip()]


@dataclass(frozen=True)
class KafkaConnection:
    """Where and how to connect: bootstrap plus security and producer options."""

    bootstrap: str
    settings: HubSettings

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers one by one (``host:port`` each)."""
        return bootstrap_servers(self.bootstrap)

    def client_kwargs(self) -> dict[str, Any]:
        """Arguments every aiokafka client (producer, consumer, admin) takes."""
        s = self.settings
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "client_id": s.kafka_client_id,
            "security_protocol": s.kafka_security_protocol,
        }
        if s.kafka_security_protocol.startswith("SASL_"):
            # Settings validation guarantees mechanism, user name and a password (or its file).
            kwargs["sasl_mechanism"] = s.kafka_sasl_mechanism
            kwargs["sasl_plain_username"] = s.kafka_sasl_username
            kwargs["sasl_plain_password"] = sasl_password(s)
        if s.kafka_security_protocol in {"SSL", "SASL_SSL"}:
            kwargs["ssl_context"] = self.ssl_context()
        return kwargs

    def producer_kwargs(self) -> dict[str, Any]:
        """Producer arguments: acks=all always, idempotence as configured."""
        return {
            **self.client_kwargs(),
            "acks": "all",
            "enable_idempotence": self.settings.kafka_idempotence,
        }

    def ssl_context(self) -> ssl.SSLContext:
        """A TLS context from the CA and optional client certificate settings."""
        s = self.settings
        try:
            context = ssl.create_default_context(
                cafile=str(s.kafka_ssl_cafile) if s.kafka_ssl_cafile else None
            )
            if s.kafka_ssl_certfile:
                context.load_cert_chain(
                    str(s.kafka_ssl_certfile),
                    str(s.kafka_ssl_keyfile) if s.kafka_ssl_keyfile else None,
                )
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"HUB_KAFKA_SSL_*: cannot load TLS files: {exc}") from None
        return context


def write_local_state(data_dir: Path, bootstrap: str) -> Path:
    """Record the running local broker (address and hub pid) in the data directory."""
    private_directory(data_dir)
    path = data_dir / LOCAL_STATE_FILE
    with private_file(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps({"bootstrap": bootstrap, "pid": os.getpid()}))
    return path


def read_local_state(data_dir: Path) -> str | None:
    """The bootstrap of a local broker a live ``hub up`` recorded, if any."""
    path = data_dir / LOCAL_STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(state["bootstrap"])


def connection_for(settings: HubSettings) -> KafkaConnection:
    """The connection for commands that need a running broker (not ``hub up`` itself).

    ``HUB_KAFKA_BOOTSTRAP`` if set; else the local broker of a running ``hub up`` with the
    same data directory; else a ``ConfigurationError`` saying what to do.
    """
    bootstrap = settings.kafka_bootstrap or read_local_state(settings.data_dir)
    if bootstrap is None:
        raise ConfigurationError(
            "HUB_KAFKA_BOOTSTRAP: not set and no local broker is running in "
            f"{settings.data_dir} (start one with `hub up`)"
        )
    return KafkaConnection(bootstrap, settings)
