"""A small OpenID Connect provider for tests: discovery, authorize, token and JWKS endpoints.

It approves every authorization request at once for the one person it was given, and signs a
real RS256 ID token (joserfc) that the client verifies against the published key. Served by a
real uvicorn on loopback, in a thread.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hub.broker.local import find_free_port

__all__ = ["LocalOidcProvider", "local_oidc_provider"]


@dataclass
class LocalOidcProvider:
    """The provider's address, its one client and the claims of the person it signs in."""

    issuer: str
    client_id: str
    client_secret: str
    claims: dict[str, Any]
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "t"}))
    codes: dict[str, str] = field(default_factory=dict)
    #: Publish another key than the one that signs: every ID token then fails verification.
    wrong_key: bool = False

    def app(self) -> Starlette:
        """The provider as an ASGI application."""

        async def discovery(_request: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": f"{self.issuer}/authorize",
                    "token_endpoint": f"{self.issuer}/token",
                    "jwks_uri": f"{self.issuer}/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                }
            )

        async def authorize(request: Request) -> Response:
            query = request.query_params
            if query.get("client_id") != self.client_id:
                return JSONResponse({"error": "unauthorized_client"}, 400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = query.get("nonce", "")
            answer = urlencode({"code": code, "state": query.get("state", "")})
            return RedirectResponse(f"{query['redirect_uri']}?{answer}", 302)

        async def token(request: Request) -> Response:
            form = await request.form()
            nonce = self.codes.pop(str(form.get("code")), None)
            if nonce is None:
                return JSONResponse({"error": "invalid_grant"}, 400)
            now = int(time.time())
            claims = {
                "iss": self.issuer,
                "aud": self.client_id,
                "iat": now,
                "exp": now + 300,
                "nonce": nonce,
                **self.claims,
            }
            id_token = jwt.encode({"alg": "RS256", "kid": "t"}, claims, self.key)
            return JSONResponse(
                {"access_token": "opaque", "token_type": "Bearer", "expires_in": 300,
                 "id_token": id_token}
            )  # fmt: skip

        async def jwks(_request: Request) -> Response:
            published = RSAKey.generate_key(2048, parameters={"kid": "t"}) if self.wrong_key else (
                self.key)  # fmt: skip
            return JSONResponse({"keys": [published.as_dict(private=False)]})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/jwks", jwks),
            ]
        )


@contextmanager
def local_oidc_provider(
    claims: dict[str, Any], *, wrong_key: bool = False
) -> Iterator[LocalOidcProvider]:
    """A running provider signing in the person of ``claims``; stopped on exit."""
    port = find_free_port()
    provider = LocalOidcProvider(
        f"http://127.0.0.1:{port}", "hub-console", "s3cret", claims, wrong_key=wrong_key
    )
    server = uvicorn.Server(
        uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the OIDC provider did not start")
            time.sleep(0.02)
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
