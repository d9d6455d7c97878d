"""The tamper-evident audit log: hash chains per consumed partition, signed checkpoints.

See docs/audit.md for what is recorded, how the chains are built and how auditors use them.
"""

from __future__ import annotations

from hub.audit.recorder import AuditRecorder
from hub.audit.signing import load_or_create_signing_key
from hub.audit.store import AuditStore, open_audit_store
from hub.core.settings import HubSettings

__all__ = ["open_recorder", "open_store"]


def open_store(settings: HubSettings) -> AuditStore:
    """The configured audit store (PostgreSQL with ``HUB_AUDIT_DSN``, else SQLite)."""
    dsn = None if settings.audit_dsn is None else settings.audit_dsn.get_secret_value()
    return open_audit_store(settings.data_dir, dsn)


def open_recorder(settings: HubSettings) -> AuditRecorder:
    """The recorder ``hub up`` audits with: the store and the checkpoint signing key."""
    key = load_or_create_signing_key(
        settings.audit_signing_key_file, settings.data_dir, may_generate=settings.local_broker
    )
    return AuditRecorder(
        open_store(settings),
        key,
        checkpoint_every=settings.audit_checkpoint_records,
        checkpoint_interval_s=settings.audit_checkpoint_interval_s,
        anchor_file=settings.audit_anchor_file,
    )
