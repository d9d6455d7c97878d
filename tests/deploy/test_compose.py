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

from connectors import CONNECTORS
from hub.acls import acl_bindings
from hub.audit.signing import fingerprint, load_or_create_signing_key, load_public_key
from hub.contracts import load_contract_book
from hub.runtime import renderers_for
from hub.settings import HubSettings
from tests.deploy.conftest import DOCKER, REPO, hub_environment

Compose = dict[str, Any]

KAFKA_IMAGE = re.compile(r"^apache/kafka:\d+\.\d+\.\d+$")
START_NODE = (DOCKER / "kafka" / "start-node.sh").read_text(encoding="utf-8")


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


def test_three_kafka_nodes_the_hub_twice_the_jobs_and_postgres(compose: Compose) -> None:
    brokers = _brokers(compose)
    assert sorted(brokers) == ["kafka-1", "kafka-2", "kafka-3"]
    assert sorted(b["environment"]["NODE_ID"] for b in brokers.values()) == ["1", "2", "3"]
    hubs = _hub_services(compose)
    commands = sorted(" ".join(s["command"]) for s in hubs.values())
    assert commands == ["acls generate --apply", "topics provision", "up", "up"]
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert "certs" in compose["services"]


def test_the_quorum_and_the_hubs_bootstrap_name_the_three_nodes(compose: Compose) -> None:
    brokers = _brokers(compose)
    voters = re.search(r"controller\.quorum\.voters=(\S+)", START_NODE)
    assert voters is not None
    assert voters.group(1) == ",".join(
        f"{b['environment']['NODE_ID']}@{name}:9093" for name, b in sorted(brokers.items())
    )
    for service in _hub_services(compose).values():
        hosts = hub_environment(service)["HUB_KAFKA_BOOTSTRAP"].split(",")
        assert sorted(h.rpartition(":")[0] for h in hosts) == sorted(brokers)


def test_every_hub_variable_is_a_setting_and_the_settings_load(compose: Compose) -> None:
    for name, service in _hub_services(compose).items():
        environment = hub_environment(service)
        unknown = {k for k in environment if k[4:].lower() not in HubSettings.model_fields}
        assert not unknown, f"{name}: {sorted(unknown)} are not HubSettings fields"
        settings = HubSettings(**{k[4:].lower(): v for k, v in environment.items()})
        assert settings.kafka_security_protocol == "SASL_SSL"
        assert settings.kafka_sasl_password_file is not None
        assert settings.pseudonym_secret_file is not None or "acls" in service["command"]


def test_the_hub_speaks_what_the_brokers_listen_with(compose: Compose) -> None:
    protocols = re.search(r"listener\.security\.protocol\.map=(\S+)", START_NODE)
    mechanisms = re.search(r"sasl\.enabled\.mechanisms=(\S+)", START_NODE)
    assert protocols is not None
    assert mechanisms is not None
    internal = dict(pair.split(":") for pair in protocols.group(1).split(","))["INTERNAL"]
    for service in _hub_services(compose).values():
        environment = hub_environment(service)
        assert environment["HUB_KAFKA_SECURITY_PROTOCOL"] == internal
        assert environment["HUB_KAFKA_SASL_MECHANISM"] in mechanisms.group(1).split(",")


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
    compose: Compose,
) -> None:
    super_users = re.search(r"super\.users=(\S+)", START_NODE)
    assert super_users is not None
    for service in _hub_services(compose).values():
        user = hub_environment(service)["HUB_KAFKA_SASL_USERNAME"]
        if "acls" in service["command"]:
            assert f"User:{user}" in super_users.group(1).split(";")
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
