"""The JSON Schema of what one contract receipt lets a partner receive.

``hub.distribution.contracts.project`` keeps the CloudEvents envelope attributes and the data fields
a receipt lists, and adds the extension attribute ``hubnotice`` on a reduced disclosure. This module
makes the same cut in the canonical JSON Schema, so the AsyncAPI document and the contract tests
describe exactly what a partner gets, not the whole canonical event. Pure.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from hub.core.json_refs import reachable
from hub.distribution.contracts import ENVELOPE_ATTRIBUTES, Receipt
from schemas.catalogue import EVENT_TYPES, json_schema_for

__all__ = ["event_type_of", "projected_schema"]

_NOTICE_DESCRIPTION: Final = (
    "CloudEvents extension attribute: set on a reduced disclosure (e.g. moved-out), which "
    "carries only the fields of that notice."
)


def event_type_of(family: str, version: int = 1) -> str:
    """The canonical type of a family's major version (``client-status`` →
    ``fi.….client-status.v1``)."""
    (event_type,) = (t for t in EVENT_TYPES if t.split(".")[-2:] == [family, f"v{version}"])
    return event_type


def projected_schema(receipt: Receipt) -> dict[str, Any]:
    """The canonical schema of the receipt's family, cut to what ``project`` leaves."""
    schema = copy.deepcopy(json_schema_for(event_type_of(receipt.family, receipt.version)))
    kept = {*ENVELOPE_ATTRIBUTES, "data"}
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k in kept}
    schema["required"] = [name for name in schema["required"] if name in kept]
    if receipt.notice is not None:
        schema["properties"]["hubnotice"] = {
            "const": receipt.notice,
            "description": _NOTICE_DESCRIPTION,
            "type": "string",
        }
        schema["required"].append("hubnotice")
    data = schema["$defs"][schema["properties"]["data"]["$ref"].rsplit("/", 1)[-1]]
    data["properties"] = {k: v for k, v in data["properties"].items() if k in receipt.fields}
    data["required"] = [name for name in data.get("required", ()) if name in receipt.fields]
    definitions = schema["$defs"]
    used = reachable(schema["properties"], definitions, "#/$defs/")
    schema["$defs"] = {name: definitions[name] for name in sorted(used)}
    schema.pop("$id", None)
    schema["title"] = f"{schema['title']} as received on {receipt.topic}"
    return schema
