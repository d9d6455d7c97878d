"""The quarantine store: content-addressed, atomic, private, byte-identical on reading back."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from hub.routing.quarantine import QUARANTINE_DIR, QuarantineError, QuarantineStore, sha256_of

VALUE = b"\x00\xffgarbage 131052-930V " * 1000


def test_an_entry_is_named_by_its_sha256_and_reads_back_byte_identical(tmp_path: Path) -> None:
    store = QuarantineStore.in_data_dir(tmp_path)
    entry = store.keep(VALUE)
    assert entry.sha256 == hashlib.sha256(VALUE).hexdigest() == sha256_of(VALUE)
    assert entry.size == len(VALUE)
    assert (tmp_path / QUARANTINE_DIR / entry.sha256).read_bytes() == VALUE
    assert store.read(entry.sha256) == VALUE
    assert store.entries() == [entry]


def test_entries_are_private_to_the_hubs_user(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path / "data" / "q")  # a data directory not made yet
    entry = store.keep(VALUE)
    assert stat.S_IMODE(store.path_of(entry.sha256).stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700


def test_keeping_the_same_bytes_twice_is_one_entry(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    assert store.keep(VALUE) == store.keep(VALUE)
    assert len(store.entries()) == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_an_empty_message_and_a_one_byte_one_are_kept_too(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    assert store.read(store.keep(b"").sha256) == b""
    assert store.read(store.keep(b"x").sha256) == b"x"


def test_a_truncated_entry_is_written_again(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    entry = store.keep(VALUE)
    store.path_of(entry.sha256).write_bytes(VALUE[:-1])
    store.keep(VALUE)
    assert store.read(entry.sha256) == VALUE


def test_a_changed_entry_is_refused_on_reading(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    entry = store.keep(VALUE)
    store.path_of(entry.sha256).write_bytes(b"x" + VALUE[1:])
    with pytest.raises(QuarantineError, match="does not match its SHA-256"):
        store.read(entry.sha256)


def test_a_missing_entry_or_a_path_as_reference_is_refused(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    with pytest.raises(QuarantineError, match="no quarantine entry"):
        store.read("0" * 64)
    for reference in ("../../etc/passwd", "0" * 63, "0" * 65, "A" * 64):
        with pytest.raises(QuarantineError, match="not a quarantine reference"):
            store.path_of(reference)


def test_removing_an_entry(tmp_path: Path) -> None:
    store = QuarantineStore(tmp_path)
    entry = store.keep(VALUE)
    assert store.remove(entry.sha256) is True
    assert store.remove(entry.sha256) is False
    assert store.entries() == []


def test_a_failed_write_leaves_neither_entry_nor_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = QuarantineStore(tmp_path)

    def no_space(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OSError, match="No space"):
        store.keep(VALUE)
    assert list(tmp_path.iterdir()) == []


def test_the_store_lists_nothing_before_its_first_entry(tmp_path: Path) -> None:
    assert QuarantineStore(tmp_path / "nowhere").entries() == []
