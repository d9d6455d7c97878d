"""One running hub per instance name and data directory.

Two hubs may share a data directory (on one host, so that their ledgers are the same files),
but each needs a name of its own (``HUB_INSTANCE_ID``): the name is in its routes' Kafka
transactional ids and on its in-doubt notes. Two processes under one name would fence each
other's producers at every start and settle each other's notes, so the second one is refused
at once with one line. The lock is the operating system's (``flock``) on a file in the data
directory: it goes with the process, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from hub.core.errors import ConfigurationError
from hub.core.private_files import private_directory, private_file

__all__ = ["hold_instance"]


@contextlib.contextmanager
def hold_instance(data_dir: Path, instance: str) -> Iterator[None]:
    """Hold ``instance``'s lock in ``data_dir`` until the block ends; ``ConfigurationError``
    if another process holds it."""
    private_directory(data_dir)
    with private_file(data_dir / f"instance-{instance}.lock", "w") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigurationError(
                f"HUB_INSTANCE_ID: another hub runs as instance {instance!r} on {data_dir}; "
                "give each hub that shares a data directory an HUB_INSTANCE_ID of its own"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
