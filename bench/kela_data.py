"""A generator of valid Kela payment-day files (maksupäivätiedot) of any length, quickly.

The file follows ``docs/partners/kela.md``: UTF-8, one header line, ``;`` as separator, CRLF
line endings, decimal comma, dates ``dd.mm.yyyy``. Every line is valid, so an ingest of the
file accepts every line:

* identity codes use only the individual numbers 900-999 (temporary codes that never belong
  to a real person), with a correct check character and century sign (``-`` 1900s, ``A``
  2000s), drawn from a fixed pool so that people have several records;
* every ``tapahtumatunnus`` is unique (``K2025-000000001``, ``K2025-000000002`` …);
* paid days are at most the 14 calendar days of the two-week period, and ``kertyma`` is at
  least the record's days (plausible, as the hub checks);
* about 2 % of the lines are corrections: ``korjattava`` names an earlier ordinary record of
  the same file and person, days and euros are negative (part or all of what is left of the
  original taken back, never more: all corrections of a record together take back at most
  what it paid) and ``kertyma`` goes down accordingly;
* home municipalities: mostly Lahti (398), the other Päijät-Häme municipalities, and a few
  from outside the area (091 Helsinki), so that routing has something to decide.

Deterministic: the same ``lines`` and ``seed`` give a byte-identical file.

Also usable on its own: ``python -m bench.kela_data OUT.csv 100000``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from collections import deque
from pathlib import Path
from typing import Any, Final

__all__ = ["HEADER", "generate", "identity_code"]

HEADER: Final = (
    "tapahtumatunnus;hetu;kotikunta;etuus;jakso_alku;jakso_loppu;maksupaivat;maksettu;"
    "kertyma;maksupvm;korjattava"
)
_CHECK_CHARACTERS: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_NEWLINE: Final = "\r\n"

#: Municipality codes and their weights: Lahti, the rest of Päijät-Häme, outside the area.
_MUNICIPALITIES: Final[tuple[tuple[str, int], ...]] = (
    ("398", 55),
    ("016", 4),
    ("081", 3),
    ("098", 6),
    ("111", 6),
    ("142", 3),
    ("316", 2),
    ("560", 6),
    ("576", 3),
    ("781", 4),
    ("091", 8),
)
#: Benefit codes, their weights and a daily rate in cents (with a personal spread added).
_BENEFITS: Final[tuple[tuple[str, int, int], ...]] = (
    ("TMT", 50, 3_721),
    ("PPR", 20, 3_721),
    ("APR", 30, 3_721),
)
_PERSONS: Final = 20_000
_CORRECTION_SHARE: Final = 0.02
_RECENT_RECORDS: Final = 2_000
_CHUNK_LINES: Final = 10_000
_FIRST_PERIOD: Final = dt.date(2024, 1, 1)
_PERIODS: Final = 52  # two-week payment periods over two years
_PERIOD_DAYS: Final = 14


def identity_code(birth_date: dt.date, individual: int) -> str:
    """A valid identity code for ``birth_date`` and an individual number (900-999 here)."""
    digits = f"{birth_date:%d%m}{birth_date.year % 100:02d}"
    sign = "-" if birth_date.year < 2000 else "A"
    check = _CHECK_CHARACTERS[int(f"{digits}{individual:03d}") % 31]
    return f"{digits}{sign}{individual:03d}{check}"


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole},{rest:02d}"


def _person_pool(rng: random.Random) -> list[tuple[str, str, str, int]]:
    """(identity code, home municipality, benefit code, daily rate in cents) per person."""
    municipalities = [code for code, _ in _MUNICIPALITIES]
    municipality_weights = [weight for _, weight in _MUNICIPALITIES]
    benefits = [code for code, _, _ in _BENEFITS]
    benefit_weights = [weight for _, weight, _ in _BENEFITS]
    rates = {code: rate for code, _, rate in _BENEFITS}
    first_birth = dt.date(1960, 1, 1).toordinal()
    last_birth = dt.date(2006, 12, 31).toordinal()
    pool: list[tuple[str, str, str, int]] = []
    seen: set[str] = set()
    while len(pool) < _PERSONS:
        birth = dt.date.fromordinal(rng.randint(first_birth, last_birth))
        code = identity_code(birth, rng.randint(900, 999))
        if code in seen:
            continue
        seen.add(code)
        benefit = rng.choices(benefits, benefit_weights)[0]
        municipality = rng.choices(municipalities, municipality_weights)[0]
        pool.append((code, municipality, benefit, rates[benefit] + rng.randint(0, 3_000)))
    return pool


def generate(path: Path, lines: int, seed: int = 20_250_101) -> Path:
    """Write a valid payment-day file of ``lines`` data lines (plus the header) to ``path``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets.
    persons = _person_pool(rng)
    cumulative = [0] * len(persons)
    periods = [
        (
            f"{start:%d.%m.%Y}",
            f"{start + dt.timedelta(days=13):%d.%m.%Y}",
            f"{start + dt.timedelta(days=17):%d.%m.%Y}",
        )
        for start in (_FIRST_PERIOD + dt.timedelta(days=14 * i) for i in range(_PERIODS))
    ]
    # Recent ordinary records a correction may refer to: [record id, person, period, days left,
    # cents left], what the corrections so far have left of what the record paid.
    recent: deque[list[Any]] = deque(maxlen=_RECENT_RECORDS)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER + _NEWLINE)
        chunk: list[str] = []
        for number in range(1, lines + 1):
            record_id = f"K2025-{number:09d}"
            period = number * _PERIODS // (lines + 1)  # payment dates advance through the file
            chosen = recent[rng.randrange(len(recent))] if recent else None
            if chosen is not None and chosen[4] > 0 and rng.random() < _CORRECTION_SHARE:
                corrected, person, period, paid, paid_cents = chosen
                days = -rng.randint(1, paid) if paid else 0
                cents = -(paid_cents * -days // paid) if paid else -rng.randint(1, paid_cents)
                chosen[3] += days
                chosen[4] += cents
                corrects = corrected
            else:
                person = rng.randrange(len(persons))
                days = rng.randint(1, _PERIOD_DAYS) if rng.random() > 0.01 else 0
                cents = days * persons[person][3]
                corrects = ""
            code, municipality, benefit, _ = persons[person]
            cumulative[person] = max(0, cumulative[person] + days)
            start, end, paid_on = periods[period]
            chunk.append(
                f"{record_id};{code};{municipality};{benefit};{start};{end};{days};"
                f"{_euros(cents)};{cumulative[person]};{paid_on};{corrects}{_NEWLINE}"
            )
            if not corrects:
                recent.append([record_id, person, period, days, cents])
            if len(chunk) >= _CHUNK_LINES:
                handle.write("".join(chunk))
                chunk.clear()
        handle.write("".join(chunk))
    return path


def main() -> None:
    """``python -m bench.kela_data OUT LINES [--seed N]``."""
    parser = argparse.ArgumentParser(description="Write a valid Kela payment-day file.")
    parser.add_argument("out", type=Path)
    parser.add_argument("lines", type=int)
    parser.add_argument("--seed", type=int, default=20_250_101)
    args = parser.parse_args()
    generate(args.out, args.lines, args.seed)


if __name__ == "__main__":
    main()
