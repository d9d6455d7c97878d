"""``hub acls generate``: what an administrator reads and what a tool parses."""

from __future__ import annotations

import json

import pytest

from hub.cli import main

pytestmark = pytest.mark.usefixtures("restore_logging", "cli_env")


def test_text_lists_one_binding_a_line_grouped_by_principal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["acls", "generate"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["User:hub", "ALLOW", "READ", "GROUP", "PREFIXED", "hub."]
    kela = [line.split() for line in lines if line.startswith("User:kela")]
    assert kela == [
        ["User:kela", "ALLOW", "READ", "GROUP", "PREFIXED", "kela."],
        ["User:kela", "ALLOW", "DESCRIBE", "TOPIC", "LITERAL", "in.kela.benefit-day"],
        ["User:kela", "ALLOW", "WRITE", "TOPIC", "LITERAL", "in.kela.benefit-day"],
        ["User:kela", "ALLOW", "DESCRIBE", "TOPIC", "LITERAL", "out.kela.client-status"],
        ["User:kela", "ALLOW", "READ", "TOPIC", "LITERAL", "out.kela.client-status"],
    ]
    # A blank line before each principal but the first.
    principals = [line.split()[0] for line in lines if line]
    assert lines.count("") == len(dict.fromkeys(principals)) - 1


def test_json_is_a_list_of_bindings_with_the_configured_principals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["acls", "generate", "--format", "json", "--partner-principal", "User:{partner}-p"]
    assert main([*args, "--hub-principal", "User:integration-hub"]) == 0
    bindings = json.loads(capsys.readouterr().out)
    assert {b["principal"] for b in bindings} == {
        "User:integration-hub",
        "User:keha-p",
        "User:kela-p",
        "User:lahti-p",
        "User:ph-p",
        "User:sote-p",
    }
    assert set(bindings[0]) == {
        "principal", "permission", "operation", "resource_type", "pattern_type",
        "resource_name", "host",
    }  # fmt: skip


def test_a_bad_principal_template_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["acls", "generate", "--partner-principal", "User:everyone"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == [
        "hub: error: partner principal 'User:everyone' must look like 'User:{partner}'"
    ]


def test_apply_without_a_broker_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["acls", "generate", "--apply"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("hub: error: HUB_KAFKA_BOOTSTRAP: not set")
