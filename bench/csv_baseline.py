"""The baseline: read a Kela file with Python's ``csv`` module and touch every field.

Run as a child process by ``python -m bench`` (``python -m bench.csv_baseline FILE``) so that
its wall time and peak memory are measured exactly like those of ``hub ingest kela``. This is
the least any Python ingest of the file must do: decode UTF-8, split lines and fields. It
prints ``rows=N chars=M`` so the work cannot be optimised away and the row count is checked.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def read_all(path: Path) -> tuple[int, int]:
    """(data rows, characters in all fields) of the ``;``-separated file at ``path``."""
    rows = 0
    chars = 0
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader, None)  # the header
        for row in reader:
            rows += 1
            for field in row:
                chars += len(field)
    return rows, chars


def main() -> None:
    """``python -m bench.csv_baseline FILE``."""
    rows, chars = read_all(Path(sys.argv[1]))
    print(f"rows={rows} chars={chars}")


if __name__ == "__main__":
    main()
