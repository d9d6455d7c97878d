"""``hub audit export`` and the offline check of an export.

An export is a folder: ``records.jsonl`` (one record per line, payload in base64 or ``null``
once pruned, written chain by chain in sequence order), ``checkpoints.jsonl`` (every signed
checkpoint, one per line, oldest first) and ``manifest.json`` (for every chain: the hash of the
record before the window, the line where the chain starts, how many records, its last hash;
how many checkpoints; the public key). A window cut from the middle of a chain still verifies:
each chain starts from its anchor instead of the genesis.

Every file is written and read as a stream, so neither an export nor its check holds the log
in memory. Exports of the first format (``…/1``) carried the checkpoints inside the manifest,
which a reader must hold whole (about 14 KB a checkpoint with 120 chains, and a busy hub signs
one every 1,000 records); they are still read and verified.
"""

from __future__ import annotations

import base64
import functools
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.audit.records import GENESIS_HASH, AuditRecord
from hub.audit.signing import public_pem
from hub.audit.store import AuditStore, StoredCheckpoint
from hub.audit.verify import Anchor, VerifyReport, verify_chains
from hub.core.errors import HubError
from hub.core.private_files import private_directory, private_file

__all__ = ["ExportError", "ExportSummary", "export_window", "read_export", "verify_export"]

RECORDS_FILE: Final = "records.jsonl"
CHECKPOINTS_FILE: Final = "checkpoints.jsonl"
MANIFEST_FILE: Final = "manifest.json"
FORMAT: Final = "paijathame-hub-audit-export/2"
#: The first format: the checkpoints inside the manifest, no checkpoints file.
FORMAT_1: Final = "paijathame-hub-audit-export/1"


class ExportError(HubError):
    """An export folder that cannot be written or read (one line)."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote."""

    chains: int
    records: int
    checkpoints: int


def _line(record: AuditRecord) -> bytes:
    document = record.summary()
    document["payload"] = (
        None if record.payload is None else base64.b64encode(record.payload).decode("ascii")
    )
    return orjson.dumps(document) + b"\n"


def _record(line: bytes) -> AuditRecord:
    raw: Any = orjson.loads(line)
    payload = raw["payload"]
    return AuditRecord(
        chain=raw["chain"],
        seq=int(raw["seq"]),
        recorded_at=raw["recorded_at"],
        direction=raw["direction"],
        topic=raw["topic"],
        partition=raw["partition"],
        offset=raw["offset"],
        event_id=raw["event_id"],
        event_type=raw["event_type"],
        partner=raw["partner"],
        person_ref=raw["person_ref"],
        legal_basis=raw["legal_basis"],
        fields=tuple(raw["fields"]),
        detail=raw["detail"],
        replay_of=raw["replay_of"],
        redelivered=bool(raw["redelivered"]),
        payload_sha256=raw["payload_sha256"],
        payload=None if payload is None else base64.b64decode(payload),
        prev_hash=raw["prev_hash"],
        record_hash=raw["hash"],
        format=int(raw.get("format", 1)),  # exports made before format 2 hold format 1 only
    )


def export_window(
    store: AuditStore,
    key: Ed25519PublicKey,
    out: Path,
    since: str | None,
    until: str | None,
    created_at: str,
) -> ExportSummary:
    """Write the records recorded in [since, until) and the evidence to check them to ``out``."""
    try:
        # A new folder is the owner's alone; an existing one the user chose is left as it is.
        if not out.exists():
            private_directory(out)
    except OSError as exc:
        raise ExportError(f"--out: cannot create {out}: {exc.strerror}") from None
    if (out / MANIFEST_FILE).exists():
        raise ExportError(f"--out: {out} already holds an export; choose an empty folder")
    chains: dict[str, dict[str, Any]] = {}
    total = lines = 0
    with private_file(out / RECORDS_FILE) as handle:
        for chain in store.chains():
            window = store.window(chain, since, until)
            if window is None:
                continue
            first, last = window
            before = store.record_at(chain, first - 1) if first > 1 else None
            entry: dict[str, Any] = {
                "anchor_seq": first - 1,
                "anchor_hash": GENESIS_HASH if before is None else before.record_hash,
                "first_line": lines,
                "records": 0,
            }
            for record in store.chain(chain, first, last):
                line = _line(record)
                handle.write(line)
                lines += 1
                entry["records"] += 1
                entry["last_seq"], entry["last_hash"] = record.seq, record.record_hash
            chains[chain] = entry
            total += entry["records"]
    checkpoints = 0
    with private_file(out / CHECKPOINTS_FILE) as handle:
        for checkpoint in store.checkpoints():
            handle.write(orjson.dumps(_checkpoint_document(checkpoint)) + b"\n")
            checkpoints += 1
    manifest = {
        "format": FORMAT,
        "created_at": created_at,
        "from": since,
        "to": until,
        "chains": chains,
        "checkpoints": checkpoints,
        "public_key": public_pem(key).decode("ascii"),
    }
    with private_file(out / MANIFEST_FILE) as handle:
        handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return ExportSummary(len(chains), total, checkpoints)


def _checkpoint_document(checkpoint: StoredCheckpoint) -> dict[str, Any]:
    return {
        "id": checkpoint.id,
        "created_at": checkpoint.created_at,
        "body": checkpoint.body,
        "signature": checkpoint.signature,
    }


def _checkpoint(document: Any) -> StoredCheckpoint:
    return StoredCheckpoint(
        int(document["id"]), document["created_at"], document["body"], document["signature"]
    )


@dataclass(frozen=True)
class ExportFolder:
    """A read export: its manifest and a way to read one chain."""

    path: Path
    manifest: dict[str, Any]

    def chain(self, chain: str) -> Iterator[AuditRecord]:
        """The chain's records in the export, in order."""
        entry = self.manifest["chains"][chain]
        first = int(entry["first_line"])
        start = self._starts.get(first)
        if start is None:  # the file ends before the chain's first line
            return
        with (self.path / RECORDS_FILE).open("rb") as handle:
            handle.seek(start)
            lines = itertools.islice(handle, int(entry["records"]))
            for number, line in enumerate(lines, start=first + 1):
                try:
                    yield _record(line)
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    raise ExportError(
                        f"{self.path / RECORDS_FILE}: line {number} is not an audit record"
                    ) from None

    @functools.cached_property
    def _starts(self) -> dict[int, int]:
        """Where in the records file each chain's first line starts, found in one pass (a
        chain read by skipping the lines before it made a file of N lines and C chains cost
        C·N/2 line reads)."""
        wanted = {int(entry["first_line"]) for entry in self.manifest["chains"].values()}
        starts: dict[int, int] = {}
        position = 0
        with (self.path / RECORDS_FILE).open("rb") as handle:
            for number, line in enumerate(handle):
                if number in wanted:
                    starts[number] = position
                position += len(line)
        return starts

    def checkpoints(self) -> Iterator[StoredCheckpoint]:
        """The checkpoints the export carries, oldest first, read one at a time."""
        if self.manifest["format"] == FORMAT_1:
            yield from (_checkpoint(document) for document in self.manifest["checkpoints"])
            return
        path = self.path / CHECKPOINTS_FILE
        count = 0
        with path.open("rb") as handle:
            for count, line in enumerate(handle, start=1):
                try:
                    checkpoint = _checkpoint(orjson.loads(line))
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    raise ExportError(f"{path}: line {count} is not a checkpoint") from None
                yield checkpoint
        stated = self.manifest["checkpoints"]
        if count != stated:
            raise ExportError(f"{path}: {count} checkpoints, the manifest states {stated}")

    def anchors(self) -> dict[str, Anchor]:
        """Where each chain of the export starts."""
        return {
            chain: Anchor(int(entry["anchor_seq"]), str(entry["anchor_hash"]))
            for chain, entry in self.manifest["chains"].items()
        }


def read_export(path: Path) -> ExportFolder:
    """Open an export folder (``ExportError`` naming what is wrong)."""
    try:
        manifest: Any = orjson.loads((path / MANIFEST_FILE).read_bytes())
    except OSError as exc:
        raise ExportError(f"--export: cannot read {path / MANIFEST_FILE}: {exc.strerror}") from None
    except orjson.JSONDecodeError:
        raise ExportError(f"--export: {path / MANIFEST_FILE} is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") not in (FORMAT, FORMAT_1):
        raise ExportError(f"--export: {path} is not an audit export ({FORMAT} or {FORMAT_1})")
    files = (RECORDS_FILE,) if manifest["format"] == FORMAT_1 else (RECORDS_FILE, CHECKPOINTS_FILE)
    for name in files:
        if not (path / name).is_file():
            raise ExportError(f"--export: {path / name} is missing")
    return ExportFolder(path, manifest)


def verify_export(folder: ExportFolder, key: Ed25519PublicKey) -> VerifyReport:
    """Verify an export offline: chains from their anchors, and the signed checkpoints.

    Heads a checkpoint signed beyond the end of the window cannot be checked from the export
    and are not held against it.
    """
    chains = folder.manifest["chains"]
    ends = {chain: int(entry.get("last_seq", 0)) for chain, entry in chains.items()}
    return verify_chains(
        sorted(chains), folder.chain, folder.checkpoints(), key, folder.anchors(), ends
    )
