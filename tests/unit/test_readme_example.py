"""The README's quick start, taken literally: its `hub send` is accepted, and its `hub tail`
shows a topic the message really comes out on; its rejected example is rejected as it says.

Read from README.md itself, so an edit of the README that breaks the example fails here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Final

import pytest

from connectors import CONNECTORS
from hub.app.runtime import renderers_for
from hub.cli.tail_send import document_messages
from hub.connector import ConnectorContext
from hub.core.settings import load_settings
from hub.distribution.contracts import load_contract_book
from hub.distribution.routes import route_event
from hub.routing.pipeline import Accepted, Outgoing, Route
from schemas.rejection import Rejection

ROOT: Final = Path(__file__).resolve().parents[2]
README: Final = (ROOT / "README.md").read_text(encoding="utf-8")
SECRET: Final = b"readme-example-pseudonym-secret-0123456789"
_BLOCKS: Final = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
_INLINE: Final = re.findall(r"`([^`\n]*\.venv/bin/hub [^`\n]*)`", README)


def _commands() -> list[list[str]]:
    """Every `.venv/bin/hub …` command of the README's shell blocks, comments dropped."""
    lines = [line for block in _BLOCKS for line in block.splitlines()]
    return [
        shlex.split(line, comments=True)[1:] for line in lines if line.startswith(".venv/bin/hub ")
    ]


def _routes(tmp_path: Path) -> dict[str, Route]:
    context = ConnectorContext(load_settings(data_dir=tmp_path), SECRET)
    routes = [route for connector in CONNECTORS for route in connector.build_routes(context)]
    return {topic: route for route in routes for topic in route.topics}


def _translated(route: Route, value: bytes) -> list[Outgoing] | Rejection:
    outcome = route.translate(value)
    if isinstance(outcome, Accepted):
        return outcome.messages
    return outcome


def _partner_topics(canonical: list[Outgoing]) -> set[str]:
    renderers = renderers_for(CONNECTORS)
    book = load_contract_book(renderers)
    topics = set()
    for message in canonical:
        family = message.topic.removeprefix("hub.").removesuffix(".v1")
        routed = route_event(book, renderers, family, message.value)
        assert not isinstance(routed, Rejection), routed
        topics |= {partner_message.topic for partner_message in routed}
    return topics


@pytest.fixture
def example() -> tuple[str, Path]:
    """The topic and the file of the README's one `hub send TOPIC FILE`."""
    [send] = [command for command in _commands() if command[0] == "send"]
    assert len(send) == 3, f"one topic and one file, nothing else: {send}"
    _send, topic, file = send
    return topic, ROOT / file


def test_the_example_file_is_committed_in_the_repository(example: tuple[str, Path]) -> None:
    _topic, file = example
    assert file.is_file()
    assert file.resolve().is_relative_to(ROOT)


def test_the_example_is_one_message_the_hub_accepts(
    example: tuple[str, Path], tmp_path: Path
) -> None:
    topic, file = example
    [message] = document_messages(file.read_bytes())
    translated = _translated(_routes(tmp_path)[topic], message)
    assert not isinstance(translated, Rejection), translated
    assert [m.topic for m in translated] == ["hub.client-status.v1"]


def test_the_readme_tails_where_the_example_comes_out(
    example: tuple[str, Path], tmp_path: Path
) -> None:
    topic, file = example
    [message] = document_messages(file.read_bytes())
    canonical = _translated(_routes(tmp_path)[topic], message)
    assert isinstance(canonical, list)
    reached = {m.topic for m in canonical} | _partner_topics(canonical)
    tailed = {command[1] for command in _commands() if command[0] == "tail"}
    assert tailed, "the README shows where the example comes out"
    assert tailed <= reached, f"tails {tailed - reached}, which the example never reaches"
    assert any(name.startswith("out.") for name in tailed), "and which partner receives it"


def test_the_readmes_rejected_example_is_dead_lettered_with_the_reason_it_names(
    tmp_path: Path,
) -> None:
    [piped] = [text for text in _INLINE if "| .venv/bin/hub send" in text]
    match = re.fullmatch(r"echo '(?P<value>[^']*)' \| \.venv/bin/hub send (?P<topic>\S+) -", piped)
    assert match is not None, piped
    translated = _translated(_routes(tmp_path)[match["topic"]], match["value"].encode())
    assert isinstance(translated, Rejection)
    assert f"(`{translated.reason}`)" in README
