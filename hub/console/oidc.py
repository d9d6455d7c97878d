"""Signing in through a municipality's OpenID Connect provider (``HUB_CONSOLE_OIDC_*``).

Authorization code flow with the provider's discovery document (authlib). The console role
comes from a claim of the ID token (``HUB_CONSOLE_OIDC_ROLE_CLAIM``, default ``roles``): a list
or a space-separated string naming ``auditor`` and/or ``operator``. Someone whose claim names
neither is not let in. The person's name is the ``preferred_username`` (else ``email``, else
``sub``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response

from hub.console.config import ConsoleSettings
from hub.console.users import Role, User
from hub.core.errors import HubError

__all__ = [
    "OidcSignIn",
    "OidcSignInError",
    "discovery_url",
    "role_from_claims",
    "user_from_claims",
]


class OidcSignInError(HubError):
    """The provider's answer could not be used (a bad signature, state, or no answer)."""


def discovery_url(issuer: str) -> str:
    """The provider's discovery document under ``issuer``."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def role_from_claims(claims: Mapping[str, Any], claim: str) -> Role | None:
    """The console role the claims grant; auditor wins when both are named."""
    raw = claims.get(claim)
    names = (
        set(raw.split()) if isinstance(raw, str) else set(raw) if isinstance(raw, list) else set()
    )
    if Role.AUDITOR.value in names:
        return Role.AUDITOR
    if Role.OPERATOR.value in names:
        return Role.OPERATOR
    return None


def user_from_claims(claims: Mapping[str, Any], claim: str) -> User | None:
    """The console user of an ID token's claims, or ``None`` without a console role."""
    role = role_from_claims(claims, claim)
    name = claims.get("preferred_username") or claims.get("email") or claims.get("sub")
    if role is None or not isinstance(name, str) or not name:
        return None
    return User(name, role)


class OidcSignIn:
    """The authorization code flow against the configured provider."""

    def __init__(self, settings: ConsoleSettings) -> None:
        from authlib.integrations.starlette_client import OAuth  # noqa: PLC0415 - OIDC only

        secret = settings.oidc_client_secret
        self._claim = settings.oidc_role_claim
        self._oauth = OAuth()
        self._oauth.register(
            name="hub",
            server_metadata_url=discovery_url(settings.oidc_issuer or ""),
            client_id=settings.oidc_client_id,
            client_secret=None if secret is None else secret.get_secret_value(),
            client_kwargs={"scope": "openid profile email"},
        )
        self.server_metadata_url = discovery_url(settings.oidc_issuer or "")

    async def redirect(self, request: Request, callback: str) -> Response:
        """Send the browser to the provider."""
        client: Any = self._oauth.create_client("hub")
        response: Response = await client.authorize_redirect(request, callback)
        return response

    async def user(self, request: Request) -> User | None:
        """The user the provider's answer names (``None`` without a console role)."""
        from authlib.common.errors import AuthlibBaseError  # noqa: PLC0415 - OIDC only

        client: Any = self._oauth.create_client("hub")
        try:
            token = await client.authorize_access_token(request)
        except (AuthlibBaseError, JoseError, httpx2.HTTPError) as exc:
            # The provider's text may be long or odd: the kind of failure is what helps.
            raise OidcSignInError(
                f"sign-in through the provider failed ({type(exc).__name__})"
            ) from None
        claims = token.get("userinfo") or {}
        return user_from_claims(claims, self._claim)
