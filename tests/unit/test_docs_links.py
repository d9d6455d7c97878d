"""README.md and docs/ stand alone: every link leads to a file of this repository that exists
(and to a heading that exists, when it names one); nothing points outside the repository.

Checked: inline links and images ``[text](target)``, reference definitions ``[id]: target``,
autolinks ``<scheme:…>``, and bare mentions of the design folder (``../shared``) anywhere,
code included: a newcomer has only the repository.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parents[2]
_FENCE: Final = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN: Final = re.compile(r"`[^`\n]*`")
_INLINE: Final = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)"
)
_REFERENCE: Final = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_AUTOLINK: Final = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>")
_BARE_OUTSIDE: Final = re.compile(r"\.\./shared\b|(?<![\w./-])shared/(?:partners/|[A-Z]+\.md)")
_SCHEME: Final = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING: Final = re.compile(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class BadLink:
    """A link a newcomer could not follow, and why."""

    file: str
    line: int
    target: str
    why: str


def _documents(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _without_code(text: str) -> str:
    """Code blocks and spans blanked out (same length, so positions keep their lines)."""

    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    return _CODE_SPAN.sub(blank, _FENCE.sub(blank, text))


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: the text, lower case, punctuation dropped, spaces → -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    text = _FENCE.sub("", document.read_text(encoding="utf-8"))
    anchors: set[str] = set()
    for heading in _HEADING.findall(text):
        slug, n = _slug(heading), 0
        while (slug if n == 0 else f"{slug}-{n}") in anchors:
            n += 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def _targets(text: str) -> Iterator[tuple[int, str]]:
    prose = _without_code(text)
    for pattern in (_INLINE, _REFERENCE, _AUTOLINK):
        for match in pattern.finditer(prose):
            yield _line_of(text, match.start()), match.group(1)


def _check_target(root: Path, document: Path, target: str) -> str | None:
    """Why ``target``, linked from ``document``, cannot be followed; None when it can."""
    if _SCHEME.match(target):
        return "leads outside the repository (write it out in docs/ instead)"
    path_part, _, anchor = target.partition("#")
    path_part = urllib.parse.unquote(path_part.partition("?")[0])
    if path_part.startswith("/"):
        return "an absolute path: outside the repository"
    resolved = (document.parent / path_part).resolve() if path_part else document
    if not resolved.is_relative_to(root.resolve()):
        return "leads outside the repository"
    if not resolved.exists():
        return "no such file in the repository"
    if (
        anchor
        and resolved.suffix == ".md"
        and urllib.parse.unquote(anchor) not in _anchors(resolved)
    ):
        return f"no heading #{anchor} in {resolved.relative_to(root.resolve())}"
    return None


def bad_links(root: Path) -> list[BadLink]:
    """Every link of README.md and docs/**/*.md under ``root`` a newcomer could not follow."""
    found = []
    for document in _documents(root):
        text = document.read_text(encoding="utf-8")
        name = str(document.relative_to(root))
        for line, target in _targets(text):
            why = _check_target(root, document, target)
            if why is not None:
                found.append(BadLink(name, line, target, why))
        for match in _BARE_OUTSIDE.finditer(text):
            found.append(
                BadLink(name, _line_of(text, match.start()), match.group(0), "the design folder")
            )
    return found


def test_every_link_of_the_readme_and_docs_can_be_followed_inside_the_repository() -> None:
    problems = [f"{b.file}:{b.line}: {b.target}: {b.why}" for b in bad_links(ROOT)]
    assert problems == []


def test_the_check_reads_every_document() -> None:
    names = {str(path.relative_to(ROOT)) for path in _documents(ROOT)}
    assert {"README.md", "docs/operations.md", "docs/partners/kela.md"} <= names
    assert {"docs/codes.md", "docs/identity-code.md"} <= names


# --- the check itself, at its boundaries ---------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a README, docs/a.md (heading "Kela's file (`hetu`)"), and docs/b/."""
    root = tmp_path / "repo"
    (root / "docs" / "b").mkdir(parents=True)
    (root / "docs" / "a.md").write_text("# A\n\n## Kela's file (`hetu`)\n\n## A\n", "utf-8")
    (root / "docs" / "b" / "c.md").write_text("# C\n", "utf-8")
    (root / "contracts").mkdir()
    (root / "contracts" / "x.xsd").write_text("<x/>", "utf-8")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "CODES.md").write_text("# outside\n", "utf-8")
    (root / "README.md").write_text("# R\n", "utf-8")
    return root


def _problems(repo: Path, markdown: str, file: str = "docs/b/c.md") -> list[tuple[str, str]]:
    (repo / file).write_text(markdown, "utf-8")
    return [(b.target, b.why) for b in bad_links(repo)]


@pytest.mark.parametrize(
    "markdown",
    [
        "[a](../a.md)",
        "[a](../a.md#kelas-file-hetu)",
        "[a, again](../a.md#a-1)",
        "# C\n\n[here](#c)",
        "[folder](../b/)",
        "![xsd](../../contracts/x.xsd)",
        "[ref]\n\n[ref]: ../a.md",
        '[a](<../a.md> "title")',
        "```md\n[not a link](../../../nowhere.md)\n```",
        "`[not a link](../../../nowhere.md)`",
        "text only, (parentheses) and [brackets]",
    ],
)
def test_links_inside_the_repository_pass(repo: Path, markdown: str) -> None:
    assert _problems(repo, markdown) == []


@pytest.mark.parametrize(
    ("markdown", "target", "why"),
    [
        ("[sibling](../../../outside.md)", "../../../outside.md", "outside"),
        ("[up](../../..)", "../../..", "outside"),
        ("[abs](/etc/passwd)", "/etc/passwd", "absolute"),
        ("[web](https://example.org/x)", "https://example.org/x", "outside"),
        ("<file:///work/shared/CODES.md>", "file:///work/shared/CODES.md", "outside"),
        ("[missing](../d.md)", "../d.md", "no such file"),
        ("[ref]\n\n[ref]: ../missing.md", "../missing.md", "no such file"),
        ("[anchor](../a.md#nothing-here)", "../a.md#nothing-here", "no heading"),
        ("[anchor](#a-2)", "#a-2", "no heading"),
    ],
)
def test_links_that_cannot_be_followed_fail(
    repo: Path, markdown: str, target: str, why: str
) -> None:
    [(found, reason)] = _problems(repo, markdown)
    assert found == target
    assert why in reason


@pytest.mark.parametrize(
    "markdown",
    [
        "as in `../shared/partners/kela.md`",
        "```\nsee ../shared/CODES.md\n```",
        "the list in shared/CODES.md",
        "see shared/partners/sote.md",
        "[codes](../shared/CODES.md)",
    ],
)
def test_a_bare_mention_of_the_design_folder_fails_even_in_code(repo: Path, markdown: str) -> None:
    reasons = [why for _target, why in _problems(repo, markdown, "README.md")]
    assert reasons.count("the design folder") == 1
