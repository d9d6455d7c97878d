"""Ed25519 keys and signed checkpoints of the audit chains.

A checkpoint is the list of every chain head (sequence number and hash) at one moment, signed
with the hub's audit key. It turns "the chains are internally consistent" into "the chains are
what the hub wrote": a rewritten chain (every hash recomputed) or a truncated one no longer
matches a signed head. Checkpoints are chained too (``previous`` is the hash of the one
before), so removing one from the middle shows.

The key comes from ``HUB_AUDIT_SIGNING_KEY_FILE`` (PEM, PKCS#8). On the local-broker default it is
generated on first run into ``data_dir/audit-signing.key`` (mode 0600), with the public half
beside it in ``audit-signing.pub`` for auditors.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.audit.records import GENESIS_HASH
from hub.audit.store import ChainHead
from hub.core.errors import ConfigurationError
from hub.core.private_files import private_directory, private_file

__all__ = [
    "PRIVATE_KEY_FILE",
    "PUBLIC_KEY_FILE",
    "CheckpointBody",
    "fingerprint",
    "load_or_create_signing_key",
    "load_public_key",
    "previous_link",
    "public_key_from_pem",
    "public_pem",
    "sign_checkpoint",
    "signature_holds",
]

PRIVATE_KEY_FILE: Final = "audit-signing.key"
PUBLIC_KEY_FILE: Final = "audit-signing.pub"


@dataclass(frozen=True, slots=True)
class CheckpointBody:
    """What a checkpoint states: every chain head at ``created_at``, under key ``key``."""

    created_at: str
    heads: dict[str, ChainHead]
    key: str
    previous: str

    def canonical(self) -> str:
        """The exact text that is signed and stored."""
        document = {
            "created_at": self.created_at,
            "heads": {c: {"seq": h.seq, "hash": h.hash} for c, h in sorted(self.heads.items())},
            "key": self.key,
            "previous": self.previous,
        }
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS).decode()

    @classmethod
    def parse(cls, text: str) -> CheckpointBody:
        """The body a stored checkpoint text states (``ValueError`` if it is not one)."""
        try:
            raw: Any = orjson.loads(text)
            return cls(
                created_at=str(raw["created_at"]),
                heads={
                    str(chain): ChainHead(int(head["seq"]), str(head["hash"]))
                    for chain, head in raw["heads"].items()
                },
                key=str(raw["key"]),
                previous=str(raw["previous"]),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"not a checkpoint body: {type(exc).__name__}") from None


def fingerprint(key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex characters of SHA-256 of its bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def previous_link(signature: str | None) -> str:
    """The ``previous`` value of the checkpoint after one signed ``signature``."""
    if signature is None:
        return GENESIS_HASH
    return hashlib.sha256(signature.encode("ascii")).hexdigest()


def sign_checkpoint(key: Ed25519PrivateKey, body: CheckpointBody) -> tuple[str, str]:
    """(the canonical text, its base64 signature)."""
    text = body.canonical()
    return text, base64.b64encode(key.sign(text.encode("utf-8"))).decode("ascii")


def signature_holds(key: Ed25519PublicKey, text: str, signature: str) -> bool:
    """True if ``signature`` is ``key``'s signature of ``text``."""
    try:
        key.verify(base64.b64decode(signature, validate=True), text.encode("utf-8"))
    except (InvalidSignature, ValueError):
        return False
    return True


def public_pem(key: Ed25519PublicKey) -> bytes:
    """The PEM text of a public key (what exports carry and auditors keep)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_or_create_signing_key(
    key_file: Path | None, data_dir: Path, *, may_generate: bool
) -> Ed25519PrivateKey:
    """The audit signing key from ``key_file``; else from, or generated into, ``data_dir``.

    ``may_generate`` is false against a real cluster: production keys are managed, not made up.
    """
    if key_file is not None:
        return _read_private(key_file, "HUB_AUDIT_SIGNING_KEY_FILE")
    path = data_dir / PRIVATE_KEY_FILE
    if path.exists():
        return _read_private(path, str(path))
    if not may_generate:
        raise ConfigurationError(
            "HUB_AUDIT_SIGNING_KEY_FILE: required when HUB_KAFKA_BOOTSTRAP points at a real "
            "cluster (an Ed25519 private key in PEM; see docs/audit.md)"
        )
    private_directory(data_dir)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    with private_file(data_dir / PUBLIC_KEY_FILE) as handle:
        handle.write(public_pem(key.public_key()))
    return key


def _read_private(path: Path, name: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigurationError(f"{name}: cannot read {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise ConfigurationError(f"{name}: {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{name}: {path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key (PEM) an auditor trusts; a private key file also works."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"--public-key: cannot read {path}: {exc.strerror}") from None
    return public_key_from_pem(data, str(path))


def public_key_from_pem(data: bytes, name: str = "the key") -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes (public, or private of which the public half)."""
    try:
        key: Any = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError):
            raise ConfigurationError(f"--public-key: {name} is not a PEM key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError(f"--public-key: {name} is not an Ed25519 key")
    return key
