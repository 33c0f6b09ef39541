"""Settings: `config/default.toml`, an optional operator file, then `LIANSHEN_*` environment variables.

Validated once at start so a bad value stops the process with a message naming the key, instead of
surfacing later as an obscure failure deep inside the SFU or the database layer.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from server.cluster.settings import NodeSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "default.toml"
CONFIG_ENV = "LIANSHEN_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    # Reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed for the client address.
    trusted_proxies: list[str] = []
    # HTTPS served by the server itself: PEM certificate (chain) and key files; both empty: HTTP.
    tls_certificate: str = ""
    tls_key: str = ""
    # Lets a scraper read /metrics with "Authorization: Bearer <token>"; empty: administrators only.
    metrics_token: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if bool(self.tls_certificate) != bool(self.tls_key):
            raise ValueError("tls_certificate and tls_key go together: give both or neither")
        return self


class DatabaseSettings(_Section):
    url: str = ""

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (async drivers only)"
            )
        return value


class AuthSettings(_Section):
    session_hours: int = Field(12, ge=1, le=24 * 30)
    login_max_failures: int = Field(5, ge=1)
    login_window_minutes: int = Field(15, ge=1)
    login_lock_max_minutes: int = Field(24 * 60, ge=1)
    login_address_unknown_failures: int = Field(50, ge=1)
    # argon2 runs in this many worker threads; at most hash_queue more checks wait, beyond: "busy".
    hash_workers: int = Field(2, ge=1, le=64)
    hash_queue: int = Field(32, ge=0, le=10_000)
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    # argon2id cost for new password hashes (argon2-cffi defaults: RFC 9106 low-memory profile).
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    argon2_parallelism: int = Field(4, ge=1)
    # Signs meeting join tokens; empty: generated once into data_dir/secret.key (mode 0600).
    token_secret: str = ""


class PromisedLimits(_Section):
    approval: int = Field(37, ge=1)
    ratification: int = Field(36, ge=1)
    filing: int = Field(34, ge=1)


class CentreSettings(_Section):
    name: str = "凤庆县政务服务中心"
    division: str = Field("530921", pattern=r"^\d{6}$")
    minutes_prefix: str = "凤联审纪"
    # The printed minutes (GB/T 9704): the red 纪要标志 at the head, the 印发机关 of the 版记
    # (empty: the chair's department, which issues them) and the telephone given to applicants.
    minutes_mark: str = Field("凤庆县投资项目并联审批会议纪要", max_length=40)
    minutes_printer: str = Field("", max_length=40)
    telephone: str = Field("", max_length=40)
    absent_policy: Literal["deemed_accept", "pending"] = "deemed_accept"
    absent_opinion_due_working_days: int = Field(3, ge=1)
    promised_limits: PromisedLimits = PromisedLimits()


class SfuSection(_Section):
    ice_gather_addresses: list[str] = []
    announced_address: str = ""
    allowed_networks: list[str] = []
    denied_networks: list[str] = []
    ice_servers: list[dict[str, Any]] = []
    forwarding: Literal["packet", "frame"] = "packet"
    """server.sfu.SfuSettings.forwarding: rewrite and send RTP packets, or repacketise frames."""
    native_send: bool = True
    """server.sfu.SfuSettings.native_send: send each copy through the native extension if built."""

    @field_validator("ice_gather_addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        from server.sfu.ice import check_gather_entry  # the SFU's own rule (IP or interface name)

        for item in value:
            check_gather_entry(item)
        return value

    @field_validator("announced_address")
    @classmethod
    def _announced(cls, value: str) -> str:
        if value:
            ipaddress.ip_address(value)
        return value

    @field_validator("allowed_networks", "denied_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value


class SignalingSettings(_Section):
    """Live meeting signaling (socket.io): reconnect grace, payload and event-rate limits."""

    grace_seconds: int = Field(30, ge=1, le=600)
    ping_interval_seconds: int = Field(10, ge=1, le=120)
    ping_timeout_seconds: int = Field(10, ge=1, le=120)
    max_event_bytes: int = Field(65_536, ge=4096, le=4_194_304)
    rate_events_per_second: float = Field(20.0, gt=0)
    rate_burst: int = Field(60, ge=1)
    flood_disconnect_after: int = Field(200, ge=1)
    join_token_max_ttl_minutes: int = Field(7 * 24 * 60, ge=1)


class MaterialsSettings(_Section):
    """Case materials (PDF) the applicant uploads for presenting in the meeting room."""

    max_mb: int = Field(50, ge=1, le=1024)


class ArchiveSettings(_Section):
    """Archive exports made in the browser (server.services.export_jobs)."""

    # A finished export (its zip under data_dir/exports) is removed this many days after it ended.
    export_keep_days: int = Field(7, ge=1, le=3650)


class RecordingSettings(_Section):
    auto_start: bool = False
    min_free_mb: int = Field(2048, ge=0)


class Settings(BaseSettings):
    """All of Lianshen's settings; sections mirror the TOML tables."""

    model_config = SettingsConfigDict(
        env_prefix="LIANSHEN_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
    )

    data_dir: Path = Path("./data")
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    auth: AuthSettings = AuthSettings()
    centre: CentreSettings = CentreSettings()
    sfu: SfuSection = SfuSection()
    signaling: SignalingSettings = SignalingSettings()
    recording: RecordingSettings = RecordingSettings()
    materials: MaterialsSettings = MaterialsSettings()
    archive: ArchiveSettings = ArchiveSettings()
    node: NodeSettings = NodeSettings()

    @model_validator(mode="after")
    def _nodes_share_their_state(self) -> Settings:
        """Several nodes (Redis configured) must see one database and accept each other's join links."""
        if self.node.clustered and not self.database.url.startswith("postgresql+asyncpg://"):
            raise ValueError("node.redis_url: several nodes share one PostgreSQL database (database.url)")
        if self.node.clustered and not self.auth.token_secret:
            raise ValueError("node.redis_url: several nodes sign join links with one auth.token_secret")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [DEFAULT_CONFIG]
        if extra := os.environ.get(CONFIG_ENV):
            files.append(Path(extra))
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=files))

    @property
    def database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in the data dir."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lianshen.db').resolve()}"


class SettingsError(Exception):
    """Raised with a readable, multi-line explanation of every bad setting."""


def load_settings(**overrides: Any) -> Settings:
    """Load and validate settings; `overrides` (e.g. from CLI flags) win over files and env."""
    extra = os.environ.get(CONFIG_ENV)
    if extra and not Path(extra).is_file():
        raise SettingsError(f"{CONFIG_ENV}={extra}: no such file")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err["loc"])
            lines.append(f"  {key}: {err['msg']} (got {err.get('input')!r})")
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None
