"""What signed checkpoints and anchors vouch for, as ``hub.audit.evidence.Evidence`` keeps it
on disk: which statement of a head wins, which anchors count, and the ranges it reads back.

The oracle of the property test is the rule as ``hub audit verify`` applied it when it kept
everything in memory: the stored checkpoints' heads in the order read, each replacing an
earlier statement of the same chain and number; then the valid anchors by checkpoint number,
each replacing the store's statement and an older anchor's.
"""

from __future__ import annotations

import base64
import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.audit.anchors import CheckpointAnchor
from hub.audit.evidence import Evidence, SignedHead
from hub.audit.records import GENESIS_HASH
from hub.audit.signing import CheckpointBody, sign_checkpoint
from hub.audit.store import ChainHead

pytestmark = pytest.mark.audit

_KEY = Ed25519PrivateKey.generate()
_OTHER_KEY = Ed25519PrivateKey.generate()


def _anchor(
    number: int, heads: dict[str, ChainHead], key: Ed25519PrivateKey = _KEY
) -> CheckpointAnchor:
    body = CheckpointBody("2026-12-03T04:00:00Z", heads, "k", GENESIS_HASH)
    text, signature = sign_checkpoint(key, body)
    return CheckpointAnchor(number, body.created_at, text, signature, "test")


def _heads(evidence: Evidence, chain: str) -> list[tuple[int, str]]:
    return [(head.seq, head.hash) for head in evidence.heads(chain)]


def test_a_later_stored_statement_replaces_an_earlier_one() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        evidence.sign(1, {"a": ChainHead(3, "x"), "b": ChainHead(1, "y")})
        evidence.sign(2, {"a": ChainHead(3, "z"), "b": ChainHead(1, "y")})
        assert list(evidence.heads("a")) == [SignedHead(3, 2, "z")]
        # An unchanged head keeps the checkpoint that first signed it.
        assert list(evidence.heads("b")) == [SignedHead(1, 1, "y")]


def test_an_anchor_outranks_the_stores_statement_whichever_was_added_first() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        evidence.add_anchor(_anchor(1, {"a": ChainHead(3, "anchored")}))
        evidence.sign(1, {"a": ChainHead(3, "stored")})
        evidence.sign(2, {"b": ChainHead(1, "stored")})
        evidence.add_anchor(_anchor(2, {"b": ChainHead(1, "anchored")}))
        assert _heads(evidence, "a") == [(3, "stored")]  # not before sign_anchored
        evidence.sign_anchored()
        assert _heads(evidence, "a") == [(3, "anchored")]
        assert _heads(evidence, "b") == [(1, "anchored")]


def test_the_newest_anchor_wins_even_when_anchors_arrive_out_of_order() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        for number, hash_ in ((5, "h5"), (9, "h9"), (7, "h7"), (10, "h7")):
            evidence.add_anchor(_anchor(number, {"a": ChainHead(10, hash_)}))
        evidence.sign_anchored()
        assert list(evidence.heads("a")) == [SignedHead(10, 10, "h7")]


def test_a_newer_anchor_restating_an_older_head_wins_over_an_out_of_order_one() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        for number, hash_ in ((5, "h5"), (9, "h5"), (7, "h7"), (10, "h5")):
            evidence.add_anchor(_anchor(number, {"a": ChainHead(10, hash_)}))
        evidence.sign_anchored()
        assert _heads(evidence, "a") == [(10, "h5")]


def test_anchors_that_do_not_hold_are_counted_and_not_kept() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        good = _anchor(1, {"a": ChainHead(1, "good")})
        evidence.add_anchor(_anchor(2, {"a": ChainHead(1, "foreign")}, _OTHER_KEY))
        evidence.add_anchor(dataclasses.replace(good, checkpoint=3, body=good.body + " "))
        # Signed, but not a checkpoint body: not kept, and not a bad signature either.
        evidence.add_anchor(CheckpointAnchor(4, "t", "[]", _signed("[]"), "test"))
        assert (evidence.anchors_read, evidence.anchors_ignored) == (3, 2)
        assert evidence.anchor_count() == 0
        evidence.sign_anchored()
        assert evidence.chains() == []
        evidence.add_anchor(good)
        assert (evidence.anchors_read, evidence.anchors_ignored) == (4, 2)
        assert evidence.anchor(1) == good
        assert evidence.anchor(2) is None
        assert evidence.newest_anchor() == good


def _signed(text: str) -> str:
    return base64.b64encode(_KEY.sign(text.encode())).decode()


def test_the_first_valid_anchor_of_a_number_is_kept_with_its_heads() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        first = _anchor(4, {"a": ChainHead(2, "first")})
        evidence.add_anchor(first)
        evidence.add_anchor(_anchor(4, {"a": ChainHead(2, "second"), "b": ChainHead(1, "s")}))
        evidence.sign_anchored()
        assert evidence.anchor(4) == first
        assert evidence.anchor_count() == 1
        assert _heads(evidence, "a") == [(2, "first")]
        assert evidence.chains() == ["a"]


def test_the_newest_anchor_is_the_highest_number_not_the_last_added() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        assert evidence.newest_anchor() is None
        for number in (2, 7, 3):
            evidence.add_anchor(_anchor(number, {"a": ChainHead(number, str(number))}))
        newest = evidence.newest_anchor()
        assert newest is not None
        assert newest.checkpoint == 7
        assert evidence.anchor_count() == 3


@pytest.mark.parametrize(
    ("after", "upto", "expected"),
    [
        (0, None, [1, 2, 3, 4]),
        (1, None, [2, 3, 4]),  # after is exclusive
        (0, 3, [1, 2, 3]),  # upto is inclusive
        (0, 4, [1, 2, 3, 4]),
        (0, 5, [1, 2, 3, 4]),
        (2, 2, []),
        (-1, 0, []),
        (3, 4, [4]),
    ],
)
def test_heads_and_the_newest_signed_number_in_a_range(
    after: int, upto: int | None, expected: list[int]
) -> None:
    with Evidence(_KEY.public_key()) as evidence:
        for seq in (1, 2, 3, 4):
            evidence.sign(seq, {"a": ChainHead(seq, f"h{seq}"), "z": ChainHead(seq + 10, "z")})
        assert [head.seq for head in evidence.heads("a", after, upto)] == expected
        assert evidence.signed_to("a", after, upto) == (max(expected) if expected else None)
        assert evidence.chains() == ["a", "z"]


@pytest.mark.parametrize("count", [999, 1000, 1001, 2001])
def test_heads_are_read_in_order_over_page_boundaries(count: int) -> None:
    with Evidence(_KEY.public_key()) as evidence:
        for seq in range(count, 0, -1):  # written newest first: the order comes from the read
            evidence.sign(seq, {"a": ChainHead(seq, f"h{seq}")})
        assert [head.seq for head in evidence.heads("a")] == list(range(1, count + 1))
        assert evidence.signed_to("a") == count


def test_by_default_heads_are_read_from_the_first_record_on() -> None:
    with Evidence(_KEY.public_key()) as evidence:
        evidence.sign(1, {"a": ChainHead(1, "h1")})
        assert list(evidence.heads("a")) == [SignedHead(1, 1, "h1")]
        assert evidence.signed_to("a") == 1
        assert evidence.signed_to("b") is None


_STATEMENT = st.dictionaries(
    st.sampled_from(["a", "b"]),
    st.builds(ChainHead, st.integers(1, 3), st.sampled_from(["h1", "h2", "h3"])),
    min_size=1,
)


@settings(max_examples=150, deadline=None)
@given(
    stored=st.lists(_STATEMENT, max_size=6),
    anchored=st.lists(
        st.tuples(st.integers(1, 12), _STATEMENT), max_size=8, unique_by=lambda a: a[0]
    ),
    anchors_first=st.booleans(),
)
def test_evidence_keeps_what_the_in_memory_rule_kept(
    stored: list[dict[str, ChainHead]],
    anchored: list[tuple[int, dict[str, ChainHead]]],
    anchors_first: bool,
) -> None:
    expected: dict[str, dict[int, str]] = {}
    for heads in stored:
        for chain, head in heads.items():
            expected.setdefault(chain, {})[head.seq] = head.hash
    for _, heads in sorted(anchored, key=lambda a: a[0]):
        for chain, head in heads.items():
            expected.setdefault(chain, {})[head.seq] = head.hash

    with Evidence(_KEY.public_key()) as evidence:

        def add_anchors() -> None:
            for number, heads in anchored:
                evidence.add_anchor(_anchor(number, heads))

        if anchors_first:
            add_anchors()
        for number, heads in enumerate(stored, start=1):
            evidence.sign(number, heads)
        if not anchors_first:
            add_anchors()
        evidence.sign_anchored()
        assert evidence.chains() == sorted(expected)
        for chain, heads in expected.items():
            assert _heads(evidence, chain) == sorted(heads.items())


@pytest.mark.parametrize("count", [99, 100, 101, 201])
def test_every_kept_anchor_signs_over_page_boundaries(count: int) -> None:
    with Evidence(_KEY.public_key()) as evidence:
        for number in range(count, 0, -1):
            evidence.add_anchor(_anchor(number, {"a": ChainHead(number, f"h{number}")}))
        evidence.sign_anchored()
        assert [head.seq for head in evidence.heads("a")] == list(range(1, count + 1))
