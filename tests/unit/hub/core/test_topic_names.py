"""Topic names are made in ``hub.core.topics`` only: its builders, its parsing, and a scan of the
code that finds a topic name written anywhere else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import hub.core.topics as topics_module
from hub.core.topics import (
    AUDIT_TOPIC,
    DEADLETTER_TOPIC,
    TOPICS,
    TopicKind,
    canonical_topic,
    inbound_topic,
    kind_of,
    outbound_topic,
    partner_of,
)

_ROOT = Path(__file__).resolve().parents[4]
_TOPICS_MODULE = Path(topics_module.__file__).resolve()
#: A topic name by the naming rule, ``{}`` standing for an f-string's replacement field.
_TOPIC_NAME = re.compile(r"(?:in|out)\.[a-z{][^.\s]*\.[a-z{]\S*|hub\.[a-z{]\S*\.v[0-9{]\S*")


def test_the_builders_follow_the_naming_rule() -> None:
    assert inbound_topic("kela", "benefit-day") == "in.kela.benefit-day"
    assert canonical_topic("client-status") == "hub.client-status.v1"
    assert canonical_topic("benefit-day", 2) == "hub.benefit-day.v2"
    assert outbound_topic("sote", "service-referral") == "out.sote.service-referral"


def test_every_catalogued_topic_has_the_kind_its_name_says() -> None:
    for spec in TOPICS:
        assert kind_of(spec.name) is spec.kind, spec.name


@pytest.mark.parametrize(
    ("name", "kind", "partner"),
    [
        ("in.kela.benefit-day", TopicKind.INBOUND, "kela"),
        ("out.lahti.share-reveal", TopicKind.OUTBOUND, "lahti"),
        ("out.lahti.a.b", TopicKind.OUTBOUND, "lahti"),
        ("hub.client-status.v1", TopicKind.CANONICAL, None),
        (DEADLETTER_TOPIC, TopicKind.DEADLETTER, None),
        (AUDIT_TOPIC, TopicKind.AUDIT, None),
        # Outside the rule, or at its edges.
        ("", None, None),
        ("in", None, None),
        ("in.", None, None),
        ("out.lahti", TopicKind.OUTBOUND, None),
        ("out..x", TopicKind.OUTBOUND, None),
        ("inbox.kela.x", None, None),
        ("audit.v1", None, None),
    ],
)
def test_kind_and_partner_are_read_from_the_name(
    name: str, kind: TopicKind | None, partner: str | None
) -> None:
    assert kind_of(name) is kind
    assert partner_of(name) == partner


def _strings(tree: ast.AST) -> list[tuple[int, str]]:
    """The string literals and f-strings of a module, docstrings left out."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    parts = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in docstrings or id(node) in parts:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
            found.append((node.lineno, text))
    return found


def _topic_names_in(source: str) -> list[str]:
    return [
        f"{line}: {text}"
        for line, text in _strings(ast.parse(source))
        if _TOPIC_NAME.fullmatch(text)
    ]


def test_no_topic_name_is_written_outside_hub_topics() -> None:
    sources = [
        path
        for package in ("hub", "connectors")
        for path in sorted((_ROOT / package).rglob("*.py"))
        if path != _TOPICS_MODULE
    ]
    assert len(sources) > 50
    written = {
        str(path.relative_to(_ROOT)): names
        for path in sources
        if (names := _topic_names_in(path.read_text(encoding="utf-8")))
    }
    assert written == {}, "use hub.core.topics (canonical_topic, inbound_topic, outbound_topic)"


def test_the_scan_finds_a_topic_name_in_each_form() -> None:
    source = (
        '"""Docstrings may name hub.client-status.v1."""\n'
        'A = "hub.client-status.v1"\n'
        'B = f"in.{partner}.benefit-day"\n'
        'C = f"out.{p}.{family}"\n'
        'D = f"hub.{family}.v{major}"\n'
        'E = "hub.faststream"\n'
        'F = f"hub.{connector}"\n'
        'G = "out.txt"\n'
    )
    assert _topic_names_in(source) == [
        "2: hub.client-status.v1",
        "3: in.{}.benefit-day",
        "4: out.{}.{}",
        "5: hub.{}.v{}",
    ]
