"""The hub's partitioner puts every keyed message where aiokafka's default one does."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given
from hypothesis import strategies as st

from hub.broker.partitioning import CachedPartitioner, murmur2


@pytest.mark.parametrize("length", range(9))  # every remainder of 4, twice, and the empty key
def test_murmur2_is_aiokafkas_at_every_tail_length(length: int) -> None:
    data = bytes(range(0xF8, 0xF8 + length))  # high bytes: a sign slip would show
    assert murmur2(data) == aiokafka_murmur2(data)


def test_murmur2_is_the_java_clients() -> None:
    # org.apache.kafka.common.utils.UtilsTest: murmur2("21") == -973932308 (signed).
    assert murmur2(b"21") == -973932308 & 0xFFFFFFFF


@given(key=st.binary(max_size=80), partitions=st.integers(min_value=1, max_value=64))
def test_a_keyed_message_goes_to_the_default_partition(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert CachedPartitioner()(key, every, every[:1]) == DefaultPartitioner()(key, every, every)


@given(key=st.binary(max_size=16))
def test_a_key_asked_again_gets_the_same_partition(key: bytes) -> None:
    partitioner, every = CachedPartitioner(), list(range(12))
    assert partitioner(key, every, every) == partitioner(key, every, every)
    assert partitioner(key, every[:5], every) == DefaultPartitioner()(key, every[:5], every)


def test_a_message_without_a_key_goes_to_an_available_partition() -> None:
    partitioner = CachedPartitioner()
    chosen = {partitioner(None, [0, 1, 2, 3], [1, 3]) for _ in range(200)}
    assert chosen == {1, 3}
    assert {partitioner(None, [0, 1], []) for _ in range(200)} == {0, 1}
