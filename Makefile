# The two commands of the quick start. Each creates or refreshes .venv when needed.
#   make run   - the hub on its own local Apache Kafka (Java and Kafka's jars set up first),
#                with its web console on http://127.0.0.1:8470/
#   make test  - lint, types, the schema gate (drift, compatibility, AsyncAPI) and the tests
#                (installs a Java runtime and Maven, Kafka's pinned jars and Debian's
#                postgresql and chromium when missing: the tests run against real Kafka and
#                PostgreSQL, and the console's tests in a real browser)
#   make kafka - only the Java runtime, Maven and the pinned Kafka jars
#   make fhir-validator - only the JDK, Maven and the HAPI FHIR validator the tests use
#   make fuzz  - the fuzz tests of tests/fuzz at 10,000 inputs per test (about half an hour)
#   make bench - the benchmarks of bench/ and the fuzzing (long: see bench/README.md)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck postgresql kafka fhir-validator chromium bench fuzz clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: kafka
	$(BIN)/hub up --console

# Apache Kafka from Maven Central (hub/broker/kafka/pom.xml): Java and Maven installed with
# apt-get when missing, the jars copied once into ~/.cache/paijathame-hub.
kafka: $(STAMP)
	@.ci/ensure-kafka $(BIN)/python

# The HAPI FHIR validator (R4) from Maven Central (tests/fhir_validator/pom.xml): the tests check
# every FHIR resource the hub produces with it. A JDK and Maven installed with apt-get when
# missing; the jars and the compiled launcher kept once in ~/.cache/paijathame-hub.
fhir-validator: $(STAMP)
	@.ci/ensure-fhir-validator $(BIN)/python

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck postgresql kafka fhir-validator chromium
	$(BIN)/hub schemas check --asyncapi docs/asyncapi.yaml
	$(BIN)/pytest

# The audit tests need Debian's PostgreSQL server binaries (installed when missing).
postgresql:
	@.ci/ensure-postgresql

# The console's browser tests drive Debian's chromium with Playwright (installed when missing).
chromium:
	@.ci/ensure-chromium

bench: kafka postgresql
	$(BIN)/python -m bench
	$(BIN)/python -m bench.audit
	$(BIN)/python -m bench.audit_index
	$(BIN)/python -m bench.audit_verify
	$(BIN)/python -m bench.deadletters
	$(BIN)/python -m bench.flows
	$(BIN)/python -m bench.scale
	$(BIN)/python -m bench.share
	$(BIN)/python -m bench.fuzz

fuzz: $(STAMP)
	$(BIN)/python -m bench.fuzz

clean:
	rm -rf $(VENV) .hub .pytest_cache .mypy_cache .ruff_cache
