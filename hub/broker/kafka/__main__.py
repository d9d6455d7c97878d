"""``python -m hub.broker.kafka fetch``: put the pinned Kafka's jars into the cache (make does)."""

from __future__ import annotations

import sys

from hub.broker.kafka import KAFKA_VERSION, default_jar_dir, fetch_jars, jars_present
from hub.core.errors import LocalBrokerError


def main(argv: list[str]) -> int:
    """Fetch the jars (``fetch``) or print where they are (``where``); 0 on success."""
    if argv not in (["fetch"], ["where"]):
        sys.stderr.write("usage: python -m hub.broker.kafka fetch|where\n")
        return 2
    target = default_jar_dir()
    if argv == ["where"]:
        sys.stdout.write(f"{target}\n")
        return 0 if jars_present(target) else 1
    if not jars_present(target):
        sys.stdout.write(
            f"fetching Apache Kafka {KAFKA_VERSION} from Maven Central into {target}\n"
        )
    try:
        fetch_jars(target)
    except LocalBrokerError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
