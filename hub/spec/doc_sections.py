"""Parts of docs/ generated from the code: the settings table and each partner's ACLs.

Each part sits between two HTML comments in its Markdown file; ``hub docs generate`` rewrites
only what is between them, ``hub docs check`` (and a test) fails while a part differs from
what the code says. The prose around the parts stays hand-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Final

from hub.admin.acls import AclBinding, Operation, Principals, ResourceType, acl_bindings
from hub.core.errors import ConfigurationError
from hub.distribution.contracts import ContractBook
from hub.spec.settings_doc import settings_table

__all__ = [
    "PARTNER_PAGES",
    "Section",
    "partner_acl_table",
    "render_docs",
    "sections",
    "splice",
]

#: Partner → the page of docs/partners/ that carries its ACLs.
PARTNER_PAGES: Final = {
    "kela": "partners/kela.md",
    "lahti": "partners/authorities.md",
    "ph": "partners/authorities.md",
    "sote": "partners/sote.md",
    "keha": "partners/keha.md",
}


@dataclass(frozen=True, slots=True)
class Section:
    """One generated part: the file (relative to docs/), its name and what it holds."""

    path: str
    name: str
    render: Callable[[], str]

    @property
    def start(self) -> str:
        """The comment that opens the part."""
        return f"<!-- generated: {self.name} (hub docs generate); edit the code, not this -->"

    @property
    def end(self) -> str:
        """The comment that closes the part."""
        return f"<!-- end of generated: {self.name} -->"


def splice(text: str, section: Section) -> str:
    """``text`` with the part between the section's markers replaced by its content."""
    head, found, rest = text.partition(section.start)
    body, found_end, tail = rest.partition(section.end)
    if not (found and found_end):
        raise ConfigurationError(
            f"docs/{section.path}: markers of the generated part {section.name!r} are missing"
        )
    del body
    return f"{head}{section.start}\n{section.render()}\n{section.end}{tail}"


def _operations(bindings: Iterable[AclBinding]) -> str:
    order = list(Operation)  # as declared: read, write, create, describe
    return ", ".join(
        b.operation.value.lower() for b in sorted(bindings, key=lambda b: order.index(b.operation))
    )


def partner_acl_table(bindings: Iterable[AclBinding], principal: str) -> str:
    """What ``principal`` may do, one row per resource."""
    rows = [
        f"Kafka principal `{principal}`:",
        "",
        "| may | on | name |",
        "|---|---|---|",
    ]
    own = sorted(
        (b for b in bindings if b.principal == principal),
        key=lambda b: (b.resource_type, b.resource_name),
    )
    for (kind, name), same in groupby(own, key=lambda b: (b.resource_type, b.resource_name)):
        where = "topic" if kind is ResourceType.TOPIC else "consumer groups starting with"
        rows.append(f"| {_operations(same)} | {where} | `{name}` |")
    return "\n".join(rows)


def sections(book: ContractBook, principals: Principals | None = None) -> tuple[Section, ...]:
    """Every generated part of docs/."""
    principals = principals or Principals()
    bindings = acl_bindings(book, principals=principals)
    found = [Section("operations.md", "settings", settings_table)]
    for partner, page in PARTNER_PAGES.items():
        table = partial(partner_acl_table, bindings, principals.partner(partner))
        found.append(Section(page, f"acls-{partner}", table))
    return tuple(found)


def render_docs(docs: Path, book: ContractBook) -> dict[Path, tuple[str, str]]:
    """Each file with generated parts: (its text now, its text as the code says)."""
    texts: dict[Path, tuple[str, str]] = {}
    for section in sections(book):
        path = docs / section.path
        if path not in texts:
            try:
                current = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigurationError(f"{path}: cannot read: {exc.strerror}") from None
            texts[path] = (current, current)
        current, generated = texts[path]
        texts[path] = (current, splice(generated, section))
    return texts
