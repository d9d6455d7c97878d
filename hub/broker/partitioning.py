"""Kafka's default partitioning of keyed messages, computed once per key.

aiokafka's ``DefaultPartitioner`` hashes every keyed message with a byte-by-byte pure-Python
murmur2: a few microseconds per message, on the event loop, for keys that repeat (a person's
events share their key, and both hops of a flow key by it). ``CachedPartitioner`` gives the
same partition for every key and partition list (the Java client's murmur2, word by word,
remembered for the most recent keys); a message without a key still goes to a random
available partition, as aiokafka's does.
"""

from __future__ import annotations

import functools
import random
import struct
from collections.abc import Sequence
from typing import Final

__all__ = ["CachedPartitioner", "murmur2"]

_MASK: Final = 0xFFFFFFFF
_SEED: Final = 0x9747B28C
_M: Final = 0x5BD1E995
_WORDS: Final = struct.Struct("<I")
#: Keys remembered: a few MiB at most, more than the distinct keys of a busy minute.
_CACHED_KEYS: Final = 65_536


def murmur2(data: bytes) -> int:
    """The Java client's ``Utils.murmur2`` of ``data`` as an unsigned 32-bit integer (what
    aiokafka's ``murmur2`` returns)."""
    length = len(data)
    h = _SEED ^ length
    whole = length & ~3
    for (word,) in _WORDS.iter_unpack(data[:whole]):
        k = (word * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    extra = length - whole
    if extra >= 3:
        h ^= data[whole + 2] << 16
    if extra >= 2:
        h ^= data[whole + 1] << 8
    if extra >= 1:
        h ^= data[whole]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


@functools.lru_cache(maxsize=_CACHED_KEYS)
def _positive_hash(key: bytes) -> int:
    return murmur2(key) & 0x7FFFFFFF


class CachedPartitioner:
    """aiokafka's ``partitioner`` callable: Kafka's default partition of a keyed message."""

    def __call__(
        self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
    ) -> int:
        """The partition of ``key`` among ``all_partitions`` (sorted by id); a random one of
        ``available`` (else of all) without a key."""
        if key is None:
            return random.choice(available or all_partitions)  # noqa: S311 - spreading, not secrets
        return all_partitions[_positive_hash(key) % len(all_partitions)]
