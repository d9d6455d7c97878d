"""The state's monthly statistics (KEHA-keskus): aggregated figures per area and month.

Fed by the canonical topics (:mod:`hub.statistics.route`) into the statistics store
(:mod:`hub.statistics.store`), computed per month (:mod:`hub.statistics.figures`), protected
by disclosure control (:mod:`hub.statistics.disclosure`) and published as one document per
area and month on ``out.keha.statistics`` (:mod:`hub.statistics.document`,
:mod:`hub.statistics.sending`). Nothing here ever publishes a person: no identity code, no
pseudonymous reference, no record or referral id leaves this package.
"""

from __future__ import annotations

__all__: list[str] = []
