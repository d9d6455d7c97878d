"""``python -m tests.fhir_validator fetch``: the HAPI FHIR validator into its cache (make does)."""

from __future__ import annotations

import sys

from tests.fhir_validator import (
    HAPI_VERSION,
    FhirValidatorMissingError,
    default_dir,
    fetch,
    is_fetched,
)


def main(argv: list[str]) -> int:
    """Fetch the validator (``fetch``); 0 on success, 1 with one line on failure."""
    if argv != ["fetch"]:
        sys.stderr.write("usage: python -m tests.fhir_validator fetch\n")
        return 2
    target = default_dir()
    if not is_fetched(target):
        sys.stdout.write(f"fetching the HAPI FHIR validator {HAPI_VERSION} into {target}\n")
    try:
        fetch(target)
    except FhirValidatorMissingError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
