"""Reading a table in pages along a key: each page starts after the last row of the page before.

A reader holds one page whatever the table's size, and each page is an index range, not an
offset the database must count its way to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

__all__ = ["pages_after"]

Key = TypeVar("Key")
Row = TypeVar("Row")


def pages_after(
    read_page: Callable[[Key], Sequence[Row]], start: Key, key_of: Callable[[Row], Key]
) -> Iterator[Row]:
    """Every row ``read_page`` gives, page by page: the first page after ``start``, each next
    one after the key (``key_of``) of the last row read, until a page comes back empty."""
    after = start
    while rows := read_page(after):
        yield from rows
        after = key_of(rows[-1])
