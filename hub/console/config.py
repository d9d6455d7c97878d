"""The console's settings: ``HUB_CONSOLE_*`` variables (kept apart from the hub's own).

Loopback by default. Listening on any other address needs TLS (a certificate and its key):
session cookies and identity codes must not cross a network in clear text.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.core.errors import ConfigurationError

__all__ = ["ConsoleSettings", "is_loopback", "load_console_settings"]


class ConsoleSettings(BaseSettings):
    """Where the console listens, how people sign in; ``HUB_CONSOLE_`` + the field name."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_CONSOLE_", frozen=True, hide_input_in_errors=True, extra="ignore"
    )

    host: str = Field(default="127.0.0.1", description="Address to listen on (loopback).")
    port: int = Field(default=8470, ge=0, le=65535, description="Port to listen on.")
    tls_cert_file: Path | None = Field(default=None, description="TLS certificate (PEM).")
    tls_key_file: Path | None = Field(default=None, description="TLS private key (PEM).")
    metrics_url: str | None = Field(
        default=None,
        description="The hub's /metrics to show flows from (default: HUB_METRICS_PORT's).",
    )
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL; set to sign in through it."
    )
    oidc_client_id: str | None = Field(default=None, description="OIDC client id.")
    oidc_client_secret: SecretStr | None = Field(default=None, description="OIDC client secret.")
    oidc_role_claim: str = Field(
        default="roles", description="ID-token claim listing the console roles."
    )
    refresh_s: float = Field(
        default=5.0, gt=0, description="How often live parts of pages refresh (seconds)."
    )
    index_refresh_s: float = Field(
        default=30.0,
        ge=0,
        description="How often the dead-letter index reads new letters while no page asks "
        "(seconds, from the first list on; 0: only when a page asks).",
    )

    @property
    def tls(self) -> bool:
        """True when both TLS files are set."""
        return self.tls_cert_file is not None and self.tls_key_file is not None

    @property
    def oidc(self) -> bool:
        """True when OpenID Connect sign-in is configured."""
        return self.oidc_issuer is not None

    def check(self) -> None:
        """Refuse what would be unsafe or half-configured (one line each)."""
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ConfigurationError(
                "HUB_CONSOLE_TLS_CERT_FILE and HUB_CONSOLE_TLS_KEY_FILE go together"
            )
        if not self.tls and not is_loopback(self.host):
            raise ConfigurationError(
                f"HUB_CONSOLE_HOST={self.host} is beyond loopback: set HUB_CONSOLE_TLS_CERT_FILE "
                "and HUB_CONSOLE_TLS_KEY_FILE, or listen on 127.0.0.1"
            )
        if self.oidc and (self.oidc_client_id is None or self.oidc_client_secret is None):
            raise ConfigurationError(
                "HUB_CONSOLE_OIDC_ISSUER needs HUB_CONSOLE_OIDC_CLIENT_ID and "
                "HUB_CONSOLE_OIDC_CLIENT_SECRET"
            )


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_console_settings(**overrides: object) -> ConsoleSettings:
    """The console's settings from the environment, checked; one line on error."""
    try:
        settings = ConsoleSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "HUB_CONSOLE_" + str(first["loc"][0]).upper() if first["loc"] else "HUB_CONSOLE"
        raise ConfigurationError(f"{name}: {first['msg']}") from None
    settings.check()
    return settings
