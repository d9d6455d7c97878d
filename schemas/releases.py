"""Released schemas: the snapshots consumers built on, and the gate that protects them.

``schemas/released/<type>/<n>.schema.json`` is release ``n`` of a canonical type, written by
``hub schemas release`` and never edited afterwards. ``check_releases`` holds the current
schema of every type against *each* of its releases (transitively, not only the last), in
both directions of ``schemas.compatibility``, and reports every breach with a hint. A schema
that differs from its last release is reported too: whatever is on main may be deployed, so
it must be a release, or a later change could silently break what it wrote.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from schemas.catalogue import SCHEMA_TYPES, json_schema_for, render_schema
from schemas.compatibility import Finding, compatibility

__all__ = [
    "RELEASED_DIR",
    "IncompatibleSchemas",
    "ReleaseFinding",
    "check_releases",
    "next_major",
    "release_schemas",
    "releases_of",
]

RELEASED_DIR: Final = Path(__file__).parent / "released"

_TYPE: Final = re.compile(r"^(?P<prefix>.+)\.(?P<family>[a-z0-9-]+)\.v(?P<major>[0-9]+)$")
_SNAPSHOT: Final = re.compile(r"^(?P<number>[1-9][0-9]*)\.schema\.json$")


@dataclass(frozen=True, slots=True)
class ReleaseFinding:
    """What is wrong with the current schema of ``event_type`` against release ``release``.

    ``breaking`` findings stop a release; the one that is not says the schema awaits one.
    """

    event_type: str
    release: int
    problem: str
    hint: str
    finding: Finding | None = None
    breaking: bool = True

    def describe(self) -> str:
        """Two lines for people: what broke where, and how to fix it."""
        return f"{self.event_type} (release {self.release}): {self.problem}\n  hint: {self.hint}"


class IncompatibleSchemas(Exception):  # noqa: N818 - it names the state, like ValueError.
    """``release_schemas`` refused: the current schemas break released ones."""

    def __init__(self, findings: list[ReleaseFinding]) -> None:
        super().__init__(f"{len(findings)} breaches of released schemas")
        self.findings = findings


def next_major(event_type: str) -> tuple[str, str]:
    """The type and topic of the next major version: ``….client-status.v2``, ``hub.….v2``."""
    match = _TYPE.match(event_type)
    if match is None:
        raise ValueError(f"{event_type!r} does not end in .<family>.v<major>")
    major = int(match["major"]) + 1
    return f"{match['prefix']}.{match['family']}.v{major}", f"hub.{match['family']}.v{major}"


def releases_of(event_type: str, directory: Path = RELEASED_DIR) -> list[tuple[int, Path]]:
    """The snapshots of one type, oldest first."""
    folder = directory / event_type
    found = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        match = _SNAPSHOT.match(path.name)
        if match is None:
            raise ValueError(f"{path}: a release snapshot is named <n>.schema.json")
        found.append((int(match["number"]), path))
    return sorted(found)


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _hint(finding: Finding, event_type: str) -> str:
    new_type, new_topic = next_major(event_type)
    return (
        f"{finding.remedy}; or make it a new major version: type {new_type} on topic "
        f"{new_topic}, published beside the old one until its consumers have moved"
    )


def _breaches(event_type: str, number: int, released: Any, current: Any) -> list[ReleaseFinding]:
    return [
        ReleaseFinding(
            event_type,
            number,
            f"{finding.direction}: {finding.path}: {finding.change}: {finding.detail}",
            _hint(finding, event_type),
            finding,
        )
        for finding in compatibility(released, current, f"release {number}")
    ]


def check_releases(directory: Path = RELEASED_DIR) -> list[ReleaseFinding]:
    """Every way the current schemas break a released one, or are not released themselves."""
    found: list[ReleaseFinding] = []
    released_types = sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []
    for event_type in released_types:
        releases = releases_of(event_type, directory)
        if event_type not in SCHEMA_TYPES and releases:
            found.append(
                ReleaseFinding(
                    event_type,
                    releases[-1][0],
                    "released, but no model defines this type any more",
                    "keep its model in schemas.catalogue.SCHEMA_TYPES while its topic has "
                    "events and consumers",
                )
            )
    for event_type in SCHEMA_TYPES:
        releases = releases_of(event_type, directory)
        current = json_schema_for(event_type)
        breaches = [
            breach
            for number, path in releases
            for breach in _breaches(event_type, number, _load(path), current)
        ]
        found += breaches
        last = releases[-1][1].read_text(encoding="utf-8") if releases else None
        # A breaking schema must be fixed, not released: say so only of a releasable one.
        if not breaches and last != render_schema(event_type):
            found.append(
                ReleaseFinding(
                    event_type,
                    releases[-1][0] + 1 if releases else 1,
                    "the current schema is not released",
                    "run `hub schemas release` and commit schemas/released/",
                    breaking=False,
                )
            )
    return found


def release_schemas(directory: Path = RELEASED_DIR) -> list[Path]:
    """Write the next snapshot of every type whose schema changed since its last release.

    Refuses (``IncompatibleSchemas``) while any current schema breaks a release.
    """
    breaking = [f for f in check_releases(directory) if f.breaking]
    if breaking:
        raise IncompatibleSchemas(breaking)
    written = []
    for event_type in SCHEMA_TYPES:
        releases = releases_of(event_type, directory)
        text = render_schema(event_type)
        if releases and releases[-1][1].read_text(encoding="utf-8") == text:
            continue
        number = releases[-1][0] + 1 if releases else 1
        path = directory / event_type / f"{number}.schema.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
