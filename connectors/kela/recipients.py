"""Who receives each record of a Kela file, for the ingest's report, asked of the contracts
once per kind of record rather than once per line.

``ContractBook.disclosures_for`` decides from the few fields of the event its conditions read
(the home municipality, say), and a file has a million lines but few such combinations.
``Recipients`` lets the contracts decide, watching which fields they read, and remembers the
answer under the values of every field read so far: an event that agrees on all of them
takes the same path through the conditions, so it gets the same answer without asking again.
Nothing here knows what the conditions are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, Final

from hub.connector import ContractBook

__all__ = ["Recipients"]

#: Answers kept at most (per combination of values read); past it they are asked afresh.
_MAX_REMEMBERED: Final = 4096


class _Watched(Mapping[str, Any]):
    """``data`` as the contracts see it, noting each field they read."""

    __slots__ = ("_data", "read")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        self.read.update(self._data)  # whoever walks every field may depend on all of them
        return iter(self._data)

    def __len__(self) -> int:
        self.read.update(self._data)
        return len(self._data)


class Recipients:
    """The partners who receive an event of ``family`` (data in JSON mode, no subject, no
    relationships) on some of its major versions, remembered per combination of the values
    the contracts read."""

    def __init__(self, book: ContractBook, family: str) -> None:
        self._book = book
        self._family = family
        self._fields: dict[tuple[int, ...], tuple[str, ...]] = {}
        self._known: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def partners(self, data: Mapping[str, Any], versions: tuple[int, ...]) -> tuple[str, ...]:
        """The partner of each disclosure of an event with ``data`` on each major version of
        ``versions`` in turn, in the order ``disclosures_for`` gives them."""
        fields = self._fields.get(versions, ())
        key = (versions, *(data.get(name) for name in fields))
        try:
            known = self._known.get(key)
        except TypeError:  # a value that cannot be a key (a list): asked every time
            return self._ask(_Watched(data), versions)
        if known is not None:
            return known
        watched = _Watched(data)
        found = self._ask(watched, versions)
        if not watched.read <= set(fields):
            # A field not watched before decided this one: key every answer by it too.
            fields = tuple(sorted(watched.read.union(fields)))
            self._fields[versions] = fields
            self._known.clear()
            key = (versions, *(data.get(name) for name in fields))
        if len(self._known) >= _MAX_REMEMBERED:
            self._known.clear()
        # A field now read may hold a value that cannot be a key: then nothing is kept.
        with contextlib.suppress(TypeError):
            self._known[key] = found
        return found

    def _ask(self, data: _Watched, versions: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(
            disclosure.partner.value
            for version in versions
            for disclosure in self._book.disclosures_for(self._family, data, version=version)
        )
