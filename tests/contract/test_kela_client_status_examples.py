"""Kela's client-status golden examples: each JSON event renders to exactly its XML file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import pytest
from lxml import etree

from connectors.kela.outbound import render_statement

CONTRACT: Final = Path(__file__).resolve().parents[2] / "contracts" / "kela"
EXAMPLES: Final = sorted((CONTRACT / "examples" / "client-status").glob("*.json"))
SCHEMA: Final = etree.XMLSchema(file=str(CONTRACT / "tvpt.xsd"))
PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True)


def test_the_examples_are_there() -> None:
    assert len(EXAMPLES) >= 4
    assert all(example.with_suffix(".xml").is_file() for example in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_renders_to_its_golden_bytes(example: Path) -> None:
    event = json.loads(example.read_text(encoding="utf-8"))

    rendered = render_statement(event["id"], event["data"])

    assert rendered == example.with_suffix(".xml").read_bytes()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_golden_document_validates_against_the_schema(example: Path) -> None:
    root = etree.fromstring(example.with_suffix(".xml").read_bytes(), PARSER)

    assert SCHEMA.validate(root), SCHEMA.error_log
