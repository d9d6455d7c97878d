"""docker/compose.yaml: complete, consistent with the hub's settings, its ACLs and its scripts.

``docker compose config`` validates the file when a Docker client is installed; the checks
below hold either way, so a renamed setting, a missing secret or a volume nobody declared
breaks a test here rather than a deployment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from connectors import CONNECTORS
from hub.admin.acls import acl_bindings
from hub.app.runtime import renderers_for
from hub.audit.signing import fingerprint, load_or_create_signing_key, load_public_key
from hub.broker.kafka import KAFKA_VERSION
from hub.core.settings import HubSettings
from hub.distribution.contracts import load_contract_book
from tests.deploy.conftest import (
    DOCKER,
    REPO,
    compose_node_environment,
    hub_environment,
    read_properties,
    run_start_node,
)

Compose = dict[str, Any]
#: Each node's server.properties, as start-node.sh writes it in the node's container.
NodeProperties = dict[str, dict[str, str]]

KAFKA_IMAGE = re.compile(r"^apache/kafka:\d+\.\d+\.\d+$")


def _services(compose: Compose, predicate: Any) -> dict[str, Any]:
    return {name: s for name, s in compose["services"].items() if predicate(s)}


def _brokers(compose: Compose) -> dict[str, Any]:
    return _services(compose, lambda s: KAFKA_IMAGE.match(s.get("image", "")) and "ports" in s)


def _hub_services(compose: Compose) -> dict[str, Any]:
    return _services(compose, lambda s: "build" in s)


def _run_secrets_script(tmp_path: Path) -> Path:
    folder = tmp_path / "docker" / "secrets"
    folder.mkdir(parents=True)
    shutil.copy(DOCKER / "secrets" / "generate.sh", folder)
    subprocess.run(["/bin/sh", str(folder / "generate.sh")], check=True, capture_output=True)
    return folder


def _docker_compose() -> list[str] | None:
    """``docker compose`` (the v2 plugin) if this machine has it."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"], capture_output=True, check=False, timeout=30
    )
    return [docker, "compose"] if probe.returncode == 0 else None


DOCKER_COMPOSE = _docker_compose()


@pytest.fixture(scope="module")
def node_properties(compose: Compose, tmp_path_factory: pytest.TempPathFactory) -> NodeProperties:
    """start-node.sh run with each node's compose environment and secrets."""
    rendered = {}
    for name in _brokers(compose):
        folder = tmp_path_factory.mktemp(name)
        secrets = dict.fromkeys(compose["services"][name]["secrets"], "pw0")
        result = run_start_node(folder, compose_node_environment(compose, name), secrets)
        assert result.returncode == 0, result.stderr
        rendered[name] = read_properties(folder / "etc" / "server.properties")
    return rendered


def _listeners(properties: dict[str, str], key: str) -> dict[str, str]:
    """``NAME://host:port,...`` as {NAME: host:port}."""
    return dict(item.split("://") for item in properties[key].split(","))


def test_docker_compose_accepts_the_file(tmp_path: Path, compose: Compose) -> None:
    """``docker compose config`` where Compose exists; else the YAML-level shape it needs."""
    if DOCKER_COMPOSE is None:
        assert {"services", "volumes", "secrets"} <= set(compose)
        for name, service in compose["services"].items():
            assert "image" in service or "build" in service, name
        return
    secrets = _run_secrets_script(tmp_path)
    env_file, compose_file = str(secrets.parent / ".env"), str(DOCKER / "compose.yaml")
    result = subprocess.run(
        [*DOCKER_COMPOSE, "--env-file", env_file, "-f", compose_file, "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_cluster_runs_the_kafka_version_the_tests_run(compose: Compose) -> None:
    """tests/security runs start-node.sh on the pinned jars: compose must run the same Kafka."""
    images = {
        service["image"]
        for service in compose["services"].values()
        if service.get("image", "").startswith("apache/kafka:")
    }
    assert images == {f"apache/kafka:{KAFKA_VERSION}"}


def test_three_kafka_nodes_the_hub_twice_the_jobs_and_postgres(compose: Compose) -> None:
    brokers = _brokers(compose)
    assert sorted(brokers) == ["kafka-1", "kafka-2", "kafka-3"]
    assert sorted(b["environment"]["NODE_ID"] for b in brokers.values()) == ["1", "2", "3"]
    hubs = _hub_services(compose)
    commands = sorted(" ".join(s["command"]) for s in hubs.values())
    assert commands == ["acls generate --apply", "topics provision", "up", "up"]
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert "certs" in compose["services"]


def test_the_quorum_and_the_hubs_bootstrap_name_the_three_nodes(
    compose: Compose, node_properties: NodeProperties
) -> None:
    brokers = _brokers(compose)
    controllers = {
        name: _listeners(properties, "listeners")["CONTROLLER"].rpartition(":")[2]
        for name, properties in node_properties.items()
    }
    for name, properties in node_properties.items():
        assert properties["node.id"] == brokers[name]["environment"]["NODE_ID"]
        assert properties["controller.quorum.voters"] == ",".join(
            f"{node_properties[n]['node.id']}@{n}:{controllers[n]}" for n in sorted(brokers)
        )
    internal = sorted(
        _listeners(p, "advertised.listeners")["INTERNAL"] for p in node_properties.values()
    )
    for service in _hub_services(compose).values():
        assert sorted(hub_environment(service)["HUB_KAFKA_BOOTSTRAP"].split(",")) == internal


def test_each_node_publishes_its_external_listener_where_it_advertises_it(
    compose: Compose, node_properties: NodeProperties
) -> None:
    for name, properties in node_properties.items():
        listening = _listeners(properties, "listeners")["EXTERNAL"].rpartition(":")[2]
        advertised = _listeners(properties, "advertised.listeners")["EXTERNAL"]
        assert compose["services"][name]["ports"] == [
            f"{advertised.rpartition(':')[2]}:{listening}"
        ]
        internal = _listeners(properties, "listeners")["INTERNAL"].rpartition(":")[2]
        assert f"$$(hostname):{internal}" in " ".join(
            compose["services"][name]["healthcheck"]["test"]
        )


def test_every_hub_variable_is_a_setting_and_the_settings_load(compose: Compose) -> None:
    for name, service in _hub_services(compose).items():
        environment = hub_environment(service)
        unknown = {k for k in environment if k[4:].lower() not in HubSettings.model_fields}
        assert not unknown, f"{name}: {sorted(unknown)} are not HubSettings fields"
        settings = HubSettings(**{k[4:].lower(): v for k, v in environment.items()})
        assert settings.kafka_security_protocol == "SASL_SSL"
        assert settings.kafka_sasl_password_file is not None
        assert settings.pseudonym_secret_file is not None or "acls" in service["command"]


def test_the_hubs_share_every_store_that_sees_only_part_of_the_partitions(
    compose: Compose,
) -> None:
    """Each instance consumes some partitions: a store of its own would hold part of them."""
    running = [
        hub_environment(s) for s in _hub_services(compose).values() if s["command"] == ["up"]
    ]
    for variable in ("HUB_AUDIT_DSN", "HUB_STATISTICS_DSN", "HUB_SHARE_DSN"):
        dsns = {environment.get(variable) for environment in running}
        assert len(dsns) == 1, f"{variable}: {len(dsns)} different values"
        assert str(dsns.pop()).startswith("postgresql://"), variable


def test_the_hubs_share_one_data_directory_under_names_of_their_own(compose: Compose) -> None:
    """Their SQLite ledgers (referral register, Kela ledger, message ids) must be one: a
    partition that moves must find what the other instance handled."""
    running = [s for s in _hub_services(compose).values() if s["command"] == ["up"]]
    assert len(running) == 2
    data = {
        next(v for v in service["volumes"] if str(v).endswith(":/var/lib/hub"))
        for service in running
    }
    assert len(data) == 1, f"{len(data)} data directories"
    names = {hub_environment(service).get("HUB_INSTANCE_ID") for service in running}
    assert len(names) == 2, names
    assert None not in names


def test_the_hub_speaks_what_the_brokers_listen_with(
    compose: Compose, node_properties: NodeProperties
) -> None:
    for properties in node_properties.values():
        protocols = properties["listener.security.protocol.map"].split(",")
        internal = dict(pair.split(":") for pair in protocols)["INTERNAL"]
        for service in _hub_services(compose).values():
            environment = hub_environment(service)
            assert environment["HUB_KAFKA_SECURITY_PROTOCOL"] == internal
            mechanisms = properties["sasl.enabled.mechanisms"].split(",")
            assert environment["HUB_KAFKA_SASL_MECHANISM"] in mechanisms


def test_every_secret_file_a_service_names_is_mounted_in_it(compose: Compose) -> None:
    for name, service in _hub_services(compose).items():
        mounted = set(service.get("secrets", []))
        for variable, value in hub_environment(service).items():
            if variable.endswith("_FILE") and value.startswith("/run/secrets/"):
                needed = value.removeprefix("/run/secrets/")
                running = "up" in service["command"]
                assert needed in mounted or not running, f"{name}: {variable} needs {needed}"
        if "up" in service["command"]:
            settings = HubSettings(
                **{k[4:].lower(): v for k, v in hub_environment(service).items()}
            )
            # A real cluster needs these (the hub refuses to start without them).
            assert settings.audit_dsn is not None
            assert settings.audit_signing_key_file is not None
            assert settings.metrics_port is not None
            assert str(settings.metrics_port) in " ".join(service["healthcheck"]["test"])


def test_the_acl_job_runs_as_the_super_user_and_everything_else_as_the_hub(
    compose: Compose, node_properties: NodeProperties
) -> None:
    for properties in node_properties.values():
        super_users = properties["super.users"].split(";")
        assert super_users == ["User:admin", *(f"User:{name}" for name in sorted(node_properties))]
        for service in _hub_services(compose).values():
            user = hub_environment(service)["HUB_KAFKA_SASL_USERNAME"]
            if "acls" in service["command"]:
                assert f"User:{user}" in super_users
            else:
                assert user == "hub"


def test_every_principal_with_acls_has_a_scram_password_secret(compose: Compose) -> None:
    principals = {b.principal for b in acl_bindings(load_contract_book(renderers_for(CONNECTORS)))}
    node_secrets = set(compose["services"]["kafka-1"]["secrets"])
    users = {
        s.removesuffix("_kafka_password") for s in node_secrets if s.endswith("_kafka_password")
    }
    assert {f"User:{user}" for user in users} == principals


def test_every_volume_and_secret_used_is_declared_and_every_file_exists(
    compose: Compose,
) -> None:
    declared_volumes = set(compose["volumes"])
    declared_secrets = set(compose["secrets"])
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).is_file(), f"{name}: {source} does not exist"
            else:
                assert source in declared_volumes, f"{name}: volume {source} is not declared"
        missing = set(service.get("secrets", [])) - declared_secrets
        assert not missing, f"{name}: secrets {sorted(missing)} are not declared"


def test_the_secrets_script_makes_every_secret_and_variable_compose_needs(
    compose: Compose, tmp_path: Path
) -> None:
    secrets = _run_secrets_script(tmp_path)
    for name, secret in compose["secrets"].items():
        path = secrets.parent / secret["file"]
        assert path.is_file(), f"secret {name}: {secret['file']} is not made by generate.sh"
        if name != "audit_signing_key":
            assert re.fullmatch(r"[0-9a-f]{32,}", path.read_text(encoding="utf-8").strip())
    # The hub takes the signing key as it is, and its public half is the auditors' copy.
    key = load_or_create_signing_key(secrets / "audit_signing_key", tmp_path, may_generate=False)
    public = load_public_key(secrets / "audit_signing_key.pub")
    assert fingerprint(key.public_key()) == fingerprint(public)
    text = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    written = dict(
        line.split("=", 1)
        for line in (secrets.parent / ".env").read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert required <= set(written)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", written["KAFKA_CLUSTER_ID"])


def test_the_image_runs_hub_and_carries_every_package() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'^ENTRYPOINT \["hub"\]$', dockerfile, re.MULTILINE)
    assert re.search(r'^CMD \["up"\]$', dockerfile, re.MULTILINE)
    assert re.search(r"^USER hub$", dockerfile, re.MULTILINE)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["hub"] == "hub.cli:entry_point"
    for pattern in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        package = pattern.rstrip("*")
        assert f"COPY {package} {package}" in dockerfile
