"""The municipal share of unemployment benefits (kuntien rahoitusvastuu).

``rules`` reads the step table and the basic daily amount (configuration files versioned in
``hub/share/rules/``); ``split`` turns one payment-day record into share lines by model, step
and invoice (pure). Never holds an identity code: persons are pseudonymous references.
"""

from __future__ import annotations

from hub.share.rules import ShareRules, ShareRulesError, load_rules
from hub.share.split import InvoiceGroup, Model, ShareLine, ShareRecord, split

__all__ = [
    "InvoiceGroup",
    "Model",
    "ShareLine",
    "ShareRecord",
    "ShareRules",
    "ShareRulesError",
    "load_rules",
    "split",
]
