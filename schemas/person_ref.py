"""The pseudonymous person reference: ``p-`` + 32 hex characters.

A keyed HMAC-SHA256 of the whole identity code (century sign included), truncated to 128
bits. It is the Kafka key and the CloudEvents ``subject``: every event of one person lands in
one partition, in order, without the identity code ever leaving ``data``. Without the secret
the reference cannot be reversed or recomputed from a guessed identity code.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Final

from pydantic import Field

__all__ = ["PERSON_REF_PATTERN", "PersonRef", "PseudonymSecretError", "person_ref_for"]

PERSON_REF_PATTERN: Final = r"^p-[0-9a-f]{32}$"
_MIN_SECRET_BYTES: Final = 32

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


def person_ref_for(identity_code: str, secret: bytes) -> str:
    """The person reference of ``identity_code`` under ``secret`` (at least 32 bytes)."""
    if len(secret) < _MIN_SECRET_BYTES:
        raise PseudonymSecretError(
            f"pseudonym secret must be at least {_MIN_SECRET_BYTES} bytes, got {len(secret)}"
        )
    # hmac.digest: the one-shot form, the same bytes as hmac.new(...).digest() at a third of
    # the cost (computed for every record).
    digest = hmac.digest(secret, identity_code.encode("utf-8"), hashlib.sha256)
    return f"p-{digest[:16].hex()}"
