"""The HAPI FHIR validator (R4) as a test dependency: fetched once, run once per batch.

``pom.xml`` beside this file pins HAPI FHIR's validation artifacts on Maven Central;
:func:`fetch` has Maven copy them into a cache folder and compiles ``ValidateFhir.java`` there
(``make test`` runs it through ``.ci/ensure-fhir-validator``). :func:`validate` starts one JVM
for a whole batch of resources - a JVM start with HAPI's R4 packages takes tens of seconds, so
the tests collect every resource they render and validate them together. The local conformance
resources (``contracts/sote/fhir/``: the service CodeSystem, the profile, ...) are loaded first,
so codes and profiles validate without a terminology server. Nothing is fetched at test time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "HAPI_VERSION",
    "POM",
    "FhirValidatorMissingError",
    "Issue",
    "default_dir",
    "fetch",
    "is_fetched",
    "validate",
]

#: The HAPI FHIR version of pom.xml (a test keeps the two equal).
HAPI_VERSION: Final = "8.6.5"
POM: Final = Path(__file__).with_name("pom.xml")
SOURCE: Final = Path(__file__).with_name("ValidateFhir.java")
_MAIN_CLASS: Final = "ValidateFhir"
_COMPLETE: Final = ".complete"
_FETCH_TIMEOUT_S: Final = 900
_VALIDATE_TIMEOUT_S: Final = 900


class FhirValidatorMissingError(RuntimeError):
    """The validator is not fetched, or Maven / javac is missing or failed."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of the validator."""

    severity: str  # fatal | error | warning | information
    location: str
    message: str


def default_dir() -> Path:
    """Where the jars and the compiled launcher live: ``HUB_FHIR_VALIDATOR_DIR`` or the cache."""
    configured = os.environ.get("HUB_FHIR_VALIDATOR_DIR")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "paijathame-hub" / f"hapi-fhir-validator-{HAPI_VERSION}"


def is_fetched(target: Path) -> bool:
    """True when ``target`` holds a complete fetch (jars and the compiled launcher)."""
    return (target / _COMPLETE).is_file()


def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=_FETCH_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired:
        raise FhirValidatorMissingError(f"{what} did not finish in {_FETCH_TIMEOUT_S} s") from None
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        raise FhirValidatorMissingError(f"{what} failed (exit {result.returncode}): {tail}")


def fetch(target: Path | None = None) -> Path:
    """Copy HAPI's jars into ``target`` with Maven and compile the launcher, unless done."""
    target = target or default_dir()
    if is_fetched(target):
        return target
    mvn, javac = shutil.which("mvn"), shutil.which("javac")
    if mvn is None or javac is None:
        raise FhirValidatorMissingError(
            "Maven and a JDK (javac) are needed to fetch the HAPI FHIR validator: run `make test`"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        jars = staging / "jars"
        _run(
            [
                mvn,
                "--batch-mode",
                "--quiet",
                "--file",
                str(POM),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={jars}",
                "-DincludeScope=runtime",
            ],
            f"Maven fetching HAPI FHIR {HAPI_VERSION}",
        )
        classes = staging / "classes"
        _run(
            [javac, "-d", str(classes), "-cp", str(jars / "*"), str(SOURCE)],
            "javac compiling ValidateFhir.java",
        )
        (staging / _COMPLETE).write_text(HAPI_VERSION + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise FhirValidatorMissingError("no Java runtime on the PATH: run `make test`")
    return java


def validate(
    resources: Mapping[str, bytes], conformance_dir: Path, target: Path | None = None
) -> dict[str, tuple[Issue, ...]]:
    """Every resource (name → FHIR R4 JSON) validated in one JVM; name → its findings."""
    target = target or default_dir()
    if not is_fetched(target):
        raise FhirValidatorMissingError(
            f"the HAPI FHIR validator is not in {target}: run `make test` "
            "(or `python -m tests.fhir_validator fetch`)"
        )
    with tempfile.TemporaryDirectory(prefix="fhir-validate-") as scratch:
        files: dict[str, str] = {}
        for index, (name, body) in enumerate(resources.items()):
            path = Path(scratch) / f"{index}.json"
            path.write_bytes(body)
            files[str(path)] = name
        classpath = os.pathsep.join([str(target / "jars" / "*"), str(target / "classes")])
        result = subprocess.run(
            [
                _java(),
                "-Djava.awt.headless=true",
                "-cp",
                classpath,
                _MAIN_CLASS,
                str(conformance_dir),
                *files,
            ],
            capture_output=True,
            text=True,
            timeout=_VALIDATE_TIMEOUT_S,
            check=False,
        )
    if result.returncode != 0:
        raise FhirValidatorMissingError(
            f"the validator failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}"
        )
    return {
        files[entry["file"]]: tuple(Issue(**issue) for issue in entry["issues"])
        for entry in json.loads(result.stdout)
    }
