"""Per-partner data contracts and the municipality table: configuration, not code.

``<partner>.yaml`` says what the partner receives: which event families, on which topic, in
which format, under which condition, which fields (everything else is removed), and on what
legal basis. ``municipalities.yaml`` maps home municipalities to labour authorities. The
runtime (``hub.distribution.contracts``) loads and enforces them; contract tests prove them.

Legal bases marked ``confirmed: false`` are the developers' reading of the statutes and await
confirmation by the data-protection officer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["CONTRACT_DIR", "MUNICIPALITIES_FILE"]

CONTRACT_DIR: Final = Path(__file__).parent
MUNICIPALITIES_FILE: Final = CONTRACT_DIR / "municipalities.yaml"
