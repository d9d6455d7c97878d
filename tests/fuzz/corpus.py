"""The seed inputs of the fuzz tests: the partners' example messages under ``contracts/``.

Valid examples (the ones with an ``.expected.json`` or ``.json`` twin) are the documents the
structure-aware generators break field by field; valid and rejected examples together are
what the byte-level mutations start from. Every identity code in them has an individual
number of 900-999.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Final

from connectors.kela.native import HEADER
from contracts import CONTRACT_DIR
from tests.identity_code_scan import identity_codes_in

__all__ = [
    "authority_documents",
    "authority_examples",
    "authority_seeds",
    "codes_in_seeds",
    "kela_examples",
    "kela_fields",
    "kela_file_seeds",
    "kela_seeds",
    "task_documents",
    "task_examples",
    "task_seeds",
]

_KELA: Final = CONTRACT_DIR / "kela" / "examples" / "benefit-day"
_AUTHORITIES: Final = CONTRACT_DIR / "authorities" / "examples"
_TASKS: Final = CONTRACT_DIR / "sote" / "examples" / "task"


def _valid(folder: Path, suffix: str) -> list[Path]:
    return sorted(p for p in folder.glob(f"*{suffix}") if not p.name.endswith(".expected.json"))


def _everything(folder: Path, suffix: str) -> list[bytes]:
    paths = _valid(folder, suffix) + sorted((folder / "rejected").glob(f"*{suffix}"))
    return [path.read_bytes() for path in paths]


@cache
def kela_seeds() -> tuple[bytes, ...]:
    """Every example line (valid and rejected), without its line ending.

    A rejected example may hold the records its last line is checked against: each line is a
    seed of its own.
    """
    return tuple(line for raw in _everything(_KELA, ".csv") for line in raw.splitlines())


@cache
def kela_file_seeds() -> tuple[bytes, ...]:
    """Valid files: the header and every valid example line, and each one alone."""
    header = HEADER.encode()
    lines = [path.read_bytes().rstrip(b"\r\n") for path in _valid(_KELA, ".csv")]
    whole = b"\r\n".join([header, *lines]) + b"\r\n"
    return (whole, b"\xef\xbb\xbf" + whole, *(header + b"\n" + line for line in lines))


@cache
def kela_examples() -> tuple[bytes, ...]:
    """Every valid example line (v1 and v2 examples), without its line ending: the lines that
    correct another one after all the others."""
    paths = _valid(_KELA, ".csv") + _valid(_KELA / "v2", ".csv")
    lines = {path.read_bytes().rstrip(b"\r\n") for path in paths}
    return tuple(sorted(lines, key=lambda line: (not line.endswith(b";"), line)))


@cache
def kela_fields() -> tuple[tuple[str, ...], ...]:
    """The fields of every valid example line."""
    return tuple(
        tuple(path.read_text(encoding="utf-8").rstrip("\r\n").split(";"))
        for path in _valid(_KELA, ".csv")
    )


@cache
def authority_seeds(family: str) -> tuple[bytes, ...]:
    """Every example message of ``family`` (client-status or service-referral)."""
    return tuple(_everything(_AUTHORITIES / family, ".json"))


@cache
def authority_examples(family: str) -> tuple[tuple[str, bytes], ...]:
    """The valid example messages of ``family`` by file name (``lahti-...``, ``ph-...``)."""
    return tuple(
        (p.name.removesuffix(".json"), p.read_bytes())
        for p in _valid(_AUTHORITIES / family, ".json")
    )


@cache
def authority_documents(family: str) -> tuple[dict[str, Any], ...]:
    """The valid example messages of ``family``, parsed."""
    return tuple(json.loads(p.read_bytes()) for p in _valid(_AUTHORITIES / family, ".json"))


@cache
def task_seeds() -> tuple[bytes, ...]:
    """Every example Task (valid and rejected)."""
    return tuple(_everything(_TASKS, ".json"))


@cache
def task_examples() -> tuple[tuple[str, bytes], ...]:
    """The valid example Tasks by file name."""
    return tuple((p.name.removesuffix(".json"), p.read_bytes()) for p in _valid(_TASKS, ".json"))


@cache
def task_documents() -> tuple[dict[str, Any], ...]:
    """The valid example Tasks, parsed."""
    return tuple(json.loads(p.read_bytes()) for p in _valid(_TASKS, ".json"))


def codes_in_seeds(seeds: tuple[bytes, ...]) -> frozenset[str]:
    """Every identity-code-shaped string in the seeds: what a mutation of them may carry."""
    text = "\n".join(seed.decode("utf-8", errors="replace") for seed in seeds)
    return frozenset(identity_codes_in(text))
