"""Apache Kafka as a pinned dependency: the jars of one version, fetched from Maven Central.

``pom.xml`` beside this file names the version and its one addition (a logging binding);
``fetch_jars`` has Maven copy them into a cache folder once (``make`` does it, and ``hub up``
does it on first use when Maven is there). ``java_command`` builds the command line that runs
a Kafka class from that folder. Nothing here starts a broker: see ``hub.broker.kafka.node``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from hub.core.errors import LocalBrokerError

__all__ = [
    "KAFKA_VERSION",
    "POM",
    "default_jar_dir",
    "fetch_jars",
    "find_java",
    "jars_present",
    "java_command",
]

#: The Kafka version the hub starts; pom.xml names the same one (a unit test holds them equal).
KAFKA_VERSION: Final = "4.4.0"
#: The Maven project that lists the broker's jars.
POM: Final = Path(__file__).with_name("pom.xml")
#: Written last into a jar folder: a folder without it is an interrupted fetch.
_COMPLETE: Final = ".complete"
_FETCH_TIMEOUT_S: Final = 900


def default_jar_dir() -> Path:
    """Where the jars live: ``HUB_KAFKA_JARS_DIR``, else the user's cache folder."""
    configured = os.environ.get("HUB_KAFKA_JARS_DIR")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "paijathame-hub" / f"kafka-{KAFKA_VERSION}"


def jars_present(jar_dir: Path) -> bool:
    """True when ``jar_dir`` holds a complete fetch."""
    return (jar_dir / _COMPLETE).is_file()


def fetch_jars(jar_dir: Path | None = None) -> Path:
    """Copy Kafka's jars into ``jar_dir`` with Maven unless they are there; return the folder.

    Raises ``LocalBrokerError`` when Maven is missing or fails (its last lines say why).
    """
    target = jar_dir or default_jar_dir()
    if jars_present(target):
        return target
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LocalBrokerError(
            f"Apache Kafka {KAFKA_VERSION} is not in {target} and Maven is not installed: "
            "run `make kafka` (it installs a JDK and Maven with apt-get and fetches the jars)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        result = subprocess.run(
            [
                mvn,
                "--batch-mode",
                "--quiet",
                "--file",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            timeout=_FETCH_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            raise LocalBrokerError(
                f"Maven could not fetch Apache Kafka {KAFKA_VERSION} (exit {result.returncode}): "
                f"{tail}"
            )
        (staging / _COMPLETE).write_text(KAFKA_VERSION + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except subprocess.TimeoutExpired:
        raise LocalBrokerError(
            f"Maven did not fetch Apache Kafka {KAFKA_VERSION} within {_FETCH_TIMEOUT_S} s"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def find_java() -> str:
    """The ``java`` launcher: ``$JAVA_HOME/bin/java``, else the one on the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise LocalBrokerError(
            "no Java runtime found (JAVA_HOME or java on the PATH): Apache Kafka needs Java 17+; "
            "run `make kafka` to install one"
        )
    return java


def java_command(
    jar_dir: Path, main_class: str, *args: str, jvm_options: tuple[str, ...] = ()
) -> list[str]:
    """The command that runs ``main_class`` of Kafka's jars in ``jar_dir``."""
    if not jars_present(jar_dir):
        raise LocalBrokerError(
            f"Apache Kafka {KAFKA_VERSION} is not in {jar_dir}: run `make kafka` "
            "(or `python -m hub.broker.kafka fetch`)"
        )
    return [
        find_java(),
        "-Djava.awt.headless=true",
        *jvm_options,
        "-cp",
        str(jar_dir / "*"),
        main_class,
        *args,
    ]
