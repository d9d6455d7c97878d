"""The hub's configuration: ``HUB_``-prefixed environment variables and an optional file.

Precedence: explicit arguments, then environment variables, then the TOML file named by
``HUB_CONFIG_FILE`` (if any), then defaults. Invalid settings raise ``ConfigurationError``
with one line that names the setting, so the CLI can print it and exit non-zero.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.core.errors import ConfigurationError
from hub.core.private_files import private_directory

__all__ = [
    "CONFIG_FILE_VARIABLE",
    "HubSettings",
    "load_settings",
    "pseudonym_secret",
    "sasl_password",
]

CONFIG_FILE_VARIABLE = "HUB_CONFIG_FILE"
_PSEUDONYM_KEY_FILE = "pseudonym.key"
_MIN_SECRET_CHARS = 32

LogLevel = Literal["debug", "info", "warning", "error"]
LogFormat = Literal["auto", "json", "console"]
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

_WEEK_MS = 7 * 24 * 3600 * 1000
_OID_PATTERN = r"^[0-2](\.(0|[1-9][0-9]*))+$"


class HubSettings(BaseSettings):
    """Every setting of the hub; the field name, upper-cased with ``HUB_``, is the variable."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
        validate_default=True,
    )

    kafka_bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers, host:port[,host:port...]. Unset: `hub up` starts "
        "a local single-node Apache Kafka with its log directory in data_dir/kafka.",
    )
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        default=None, description="PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (with SASL_*)."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    kafka_sasl_password_file: Path | None = Field(
        default=None, description="File holding the SASL password (e.g. a mounted secret)."
    )
    kafka_ssl_cafile: Path | None = Field(default=None, description="CA bundle (PEM) for TLS.")
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="Client certificate (PEM) for mutual TLS."
    )
    kafka_ssl_keyfile: Path | None = Field(default=None, description="Client key (PEM).")
    kafka_idempotence: bool = Field(
        default=True,
        description="Idempotent producers (acks=all always). Turn off only for a broker that "
        "refuses InitProducerId.",
    )
    kafka_transactions: bool = Field(
        default=True,
        description="Each batch's outputs and consumer offsets commit in one Kafka transaction "
        "(exactly once for read_committed consumers). Off: at least once, for a cluster that "
        "refuses transactions.",
    )
    kafka_transaction_timeout_ms: int = Field(
        default=30_000,
        ge=1_000,
        le=900_000,
        description="How long a route's open Kafka transaction may last before the coordinator "
        "aborts it: read_committed consumers of a killed hub's partitions wait up to this long "
        "unless it comes back under the same HUB_INSTANCE_ID (at most the broker's "
        "transaction.max.timeout.ms, 900000 by default).",
    )
    instance_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="This hub instance's name in its Kafka transactional ids. Unset: the host "
        "name and a hash of the data directory. Set it per process when several hubs share "
        "one host and data directory; keep it across restarts.",
    )
    kafka_client_id: str = Field(default="paijathame-hub", description="Kafka client id.")
    kafka_session_timeout_ms: int = Field(
        default=10_000,
        ge=1000,
        le=300_000,
        description="Consumer-group session timeout (the broker's group.min.session.timeout.ms "
        "and group.max.session.timeout.ms bound it; the local broker allows 1000 and up).",
    )
    kafka_fetch_max_bytes: int = Field(
        default=4 * 1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        description="Most bytes one fetch of a route's consumer asks for, over all its "
        "partitions (Kafka still returns a larger single record batch, so nothing gets stuck): "
        "bounds the memory large messages can take.",
    )
    kafka_max_partition_fetch_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Most bytes one fetch asks for from one partition (as above).",
    )
    kafka_jars_dir: Path | None = Field(
        default=None,
        description="Where the local broker's Kafka jars are (make kafka puts them there). "
        "Unset: ~/.cache/paijathame-hub/kafka-<version>.",
    )
    kafka_connect_timeout_s: float = Field(
        default=30.0, gt=0, le=600, description="How long to wait for Kafka to answer at start."
    )
    route_batch: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Records of one fetch a route handles together: one Kafka transaction, "
        "one audit transaction and one commit of each ledger for all of them "
        "(bench/README.md, Partner flows). A failing record is then retried alone.",
    )
    stall_timeout_s: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="A route on one message for longer than this is stalled: supervision "
        "restarts it (docs/operations.md, Supervision).",
    )

    route_max_attempts: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Failed attempts at one message after which a route gives it up: it is "
        "dead-lettered as retries-exhausted and the partition moves on (docs/operations.md, "
        "A route fails on one message). Failures of Kafka, the audit store or the disk do not "
        "count.",
    )

    data_dir: Path = Field(
        default=Path(".hub"), description="State, audit store and keys of this hub instance."
    )
    audit_dsn: SecretStr | None = Field(
        default=None,
        description="Audit store DSN (postgresql://user@host/db). Unset: SQLite in data_dir.",
    )
    statistics_dsn: SecretStr | None = Field(
        default=None,
        description="Statistics store DSN (postgresql://user@host/db). Unset: SQLite in "
        "data_dir (docs/partners/keha.md).",
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs audit checkpoints. Unset: generated "
        "into data_dir/audit-signing.key on the local broker; required with a real cluster.",
    )
    audit_checkpoint_records: int = Field(
        default=1000, ge=1, description="Sign a checkpoint of the chain heads every N records..."
    )
    audit_checkpoint_interval_s: float = Field(
        default=60.0, gt=0, description="...or every T seconds, whichever comes first."
    )
    audit_payload_retention_days: int | None = Field(
        default=None,
        ge=1,
        description="Prune audit payloads older than this many days (hashes stay, chains still "
        "verify). Unset: payloads are kept forever.",
    )
    audit_anchor_file: Path | None = Field(
        default=None,
        description="Append-only file every signed audit checkpoint is also anchored in (besides "
        "hub.audit.v1); keep it where the audit database's owner cannot write.",
    )
    pseudonym_secret: SecretStr | None = Field(
        default=None,
        description="Key of the person-reference HMAC (at least 32 characters). Unset: generated "
        "into data_dir/pseudonym.key on the local broker; required with a real cluster.",
    )
    pseudonym_secret_file: Path | None = Field(
        default=None, description="File holding the pseudonym secret (e.g. a mounted secret)."
    )

    kela_data_start: dt.date | None = Field(
        default=None,
        description="The first day the hub received Kela's payment days. A Kela "
        "correction of a record the hub never received is accepted, attributed by its own "
        "kotikunta and marked, when its period ends before this day; otherwise, and while "
        "unset, it is dead-lettered (unknown-corrected-record).",
    )

    share_dsn: SecretStr | None = Field(
        default=None,
        description="Share ledger DSN (postgresql://user@host/db). Unset: SQLite in data_dir.",
    )
    share_step_table_file: Path | None = Field(
        default=None,
        description="Step table of the municipal share (TOML). Unset: the packaged table.",
    )
    share_basic_amount_file: Path | None = Field(
        default=None,
        description="Basic daily amount by year (TOML). Unset: the packaged table.",
    )
    share_alert_days: list[int] = Field(
        default=[80],
        description="Days of a person's benefit counter that raise a benefit-threshold alert to "
        "the authority (JSON list), besides every step boundary of the share.",
    )

    contracts_dir: Path | None = Field(
        default=None, description="Folder of the partner contract files. Unset: the packaged ones."
    )
    municipalities_file: Path | None = Field(
        default=None,
        description="Municipality → authority table (YAML). Unset: the packaged table.",
    )

    organisation_oid_lahti: str = Field(
        default="1.2.246.10.9990001.10",
        pattern=_OID_PATTERN,
        description="OID of the City of Lahti (the Lahti area's labour authority) as FHIR "
        "names it to Päijät-Sote (ServiceRequest.requester). The default is a placeholder: "
        "set the OID registered for the organisation.",
    )
    organisation_oid_ph: str = Field(
        default="1.2.246.10.9990002.10",
        pattern=_OID_PATTERN,
        description="OID of the Päijät-Häme area's labour authority (ServiceRequest.requester). "
        "The default is a placeholder: set the OID registered for the organisation.",
    )
    organisation_oid_sote: str = Field(
        default="1.2.246.10.9990003.10",
        pattern=_OID_PATTERN,
        description="OID of Päijät-Sote, the wellbeing services county "
        "(ServiceRequest.performer). The default is a placeholder: set the OID registered "
        "for the organisation.",
    )

    topic_partitions: int = Field(default=3, ge=1, le=1000, description="Partitions per topic.")
    topic_replication_factor: int = Field(
        default=1, ge=1, le=10, description="Replication factor (3 on a production cluster)."
    )
    topic_retention_ms: int = Field(
        default=_WEEK_MS,
        ge=-1,
        description="Retention of in.* and out.* topics in ms (-1: forever). Canonical, "
        "dead-letter and audit topics always keep data forever.",
    )

    metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="Port of /metrics (Prometheus), /healthz and /readyz (e.g. 9464). Unset: off.",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address the metrics server listens on (0.0.0.0: all)."
    )

    log_level: LogLevel = Field(default="info", description="debug, info, warning or error.")
    log_format: LogFormat = Field(
        default="auto", description="json (production), console, or auto (console on a TTY)."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_is_host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("must be host:port[,host:port...]")
        return value.strip()

    @field_validator("pseudonym_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < _MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {_MIN_SECRET_CHARS} characters")
        return value

    @model_validator(mode="after")
    def _sasl_is_complete(self) -> HubSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_mechanism
            and self.kafka_sasl_username
            and (self.kafka_sasl_password or self.kafka_sasl_password_file)
        ):
            raise ValueError(
                "HUB_KAFKA_SASL_MECHANISM, HUB_KAFKA_SASL_USERNAME and HUB_KAFKA_SASL_PASSWORD "
                "(or HUB_KAFKA_SASL_PASSWORD_FILE) are all required with "
                f"HUB_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol}"
            )
        return self

    @property
    def local_broker(self) -> bool:
        """True when no Kafka is configured and ``hub up`` runs a local one."""
        return self.kafka_bootstrap is None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then the optional TOML file."""
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_VARIABLE)
        if config_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def _describe(error: ValidationError) -> str:
    first = error.errors(include_input=False, include_url=False)[0]
    more = len(error.errors()) - 1
    suffix = f" (and {more} more)" if more else ""
    if not first["loc"]:  # a check across settings: its message names them
        return str(first["msg"]).removeprefix("Value error, ") + suffix
    name = "_".join(str(part) for part in first["loc"])
    message = "is not a known setting" if first["type"] == "extra_forbidden" else first["msg"]
    return f"HUB_{name.upper()}: {message}{suffix}"


def load_settings(**overrides: object) -> HubSettings:
    """Load and validate the settings; raise ``ConfigurationError`` with one clear line."""
    config_file = os.environ.get(CONFIG_FILE_VARIABLE)
    if config_file and not Path(config_file).is_file():
        raise ConfigurationError(f"{CONFIG_FILE_VARIABLE}: file {config_file} does not exist")
    try:
        return HubSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from None
    except ValueError as exc:  # a TOML file that does not parse
        raise ConfigurationError(f"{CONFIG_FILE_VARIABLE}: {exc}") from None


def pseudonym_secret(settings: HubSettings) -> bytes:
    """The person-reference key: from settings, from its file, or generated (local broker only).

    On the local broker the key is generated on first run into ``data_dir/pseudonym.key``
    with mode 0600 and reused afterwards, so references stay stable across restarts.
    """
    if settings.pseudonym_secret is not None:
        return settings.pseudonym_secret.get_secret_value().encode("utf-8")
    if settings.pseudonym_secret_file is not None:
        return _read_secret_file(settings.pseudonym_secret_file, "HUB_PSEUDONYM_SECRET_FILE")
    key_file = settings.data_dir / _PSEUDONYM_KEY_FILE
    if key_file.exists():
        return _read_secret_file(key_file, str(key_file))
    if not settings.local_broker:
        raise ConfigurationError(
            "HUB_PSEUDONYM_SECRET: required when HUB_KAFKA_BOOTSTRAP points at a real cluster "
            "(or set HUB_PSEUDONYM_SECRET_FILE)"
        )
    private_directory(settings.data_dir)
    secret = secrets.token_hex(32)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")
    return secret.encode("ascii")


def sasl_password(settings: HubSettings) -> str | None:
    """The SASL password: from settings or from its file (read each time a client connects)."""
    if settings.kafka_sasl_password is not None:
        return settings.kafka_sasl_password.get_secret_value()
    if settings.kafka_sasl_password_file is not None:
        return _read_text(settings.kafka_sasl_password_file, "HUB_KAFKA_SASL_PASSWORD_FILE")
    return None


def _read_text(path: Path, name: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(f"{name}: cannot read {path}: {exc.strerror}") from None
    if not text:
        raise ConfigurationError(f"{name}: {path} is empty")
    return text


def _read_secret_file(path: Path, name: str) -> bytes:
    secret = _read_text(path, name)
    if len(secret) < _MIN_SECRET_CHARS:
        raise ConfigurationError(f"{name}: secret must be at least {_MIN_SECRET_CHARS} characters")
    return secret.encode("utf-8")
