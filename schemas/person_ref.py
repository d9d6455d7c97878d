"""The pseudonymous person reference: ``p-`` + 32 hex characters.

A keyed HMAC-SHA256 of the whole identity code (century sign included), truncated to 128
bits. It is the Kafka key and the CloudEvents ``subject``: every event of one person lands in
one partition, in order, without the identity code ever leaving ``data``. Without the secret
the reference cannot be reversed or recomputed from a guessed identity code.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Annotated, Final

from pydantic import Field

__all__ = [
    "PERSON_REF_PATTERN",
    "HmacSha256",
    "PersonRef",
    "PseudonymSecretError",
    "person_ref_for",
]

PERSON_REF_PATTERN: Final = r"^p-[0-9a-f]{32}$"
_MIN_SECRET_BYTES: Final = 32
_BLOCK: Final = 64  # SHA-256's block size: the length HMAC pads its key to.
_INNER_PAD: Final = bytes(byte ^ 0x36 for byte in range(256))
_OUTER_PAD: Final = bytes(byte ^ 0x5C for byte in range(256))

PersonRef = Annotated[
    str,
    Field(
        pattern=PERSON_REF_PATTERN,
        description="Pseudonymous person reference: p- + 32 hex of HMAC-SHA256(secret, "
        "identity code). The Kafka key and CloudEvents subject.",
    ),
]


class PseudonymSecretError(ValueError):
    """The pseudonym secret is too short to be a key."""


class HmacSha256:
    """HMAC-SHA256 (RFC 2104) under one key: the same bytes as ``hmac.digest(key, message,
    hashlib.sha256)``, with the key's padded blocks hashed once, here, instead of for every
    message (``hmac.digest`` sets the key up anew each call: twice the cost, for a digest
    the hub computes per record)."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        block = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(block.translate(_INNER_PAD))
        self._outer = hashlib.sha256(block.translate(_OUTER_PAD))

    def digest(self, message: bytes) -> bytes:
        """The 32-byte HMAC of ``message``."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


@functools.lru_cache(maxsize=8)
def _keyed(secret: bytes) -> HmacSha256:
    # A process uses one pseudonym secret (tests a few): set up once, not for every code.
    return HmacSha256(secret)


def person_ref_for(identity_code: str, secret: bytes) -> str:
    """The person reference of ``identity_code`` under ``secret`` (at least 32 bytes)."""
    if len(secret) < _MIN_SECRET_BYTES:
        raise PseudonymSecretError(
            f"pseudonym secret must be at least {_MIN_SECRET_BYTES} bytes, got {len(secret)}"
        )
    digest = _keyed(secret).digest(identity_code.encode("utf-8"))
    return f"p-{digest[:16].hex()}"
