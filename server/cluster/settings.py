"""The ``[node]`` settings: who this process is among several, and where they meet (Redis).

Kept apart from server.settings because only the cluster reads them; server.settings adds the
section and checks what a cluster needs of the other sections (a shared database and token secret).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME = r"^[A-Za-z0-9_.-]*$"
"""Node ids and the Redis namespace become parts of Redis keys separated by ':', so no ':'."""

REDIS_SCHEMES = ("redis", "rediss", "unix")


class NodeSettings(BaseModel):
    """One node of the system. Empty ``redis_url``: a single node, everything in this process."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field("", max_length=64, pattern=NAME)
    level: str = Field("", max_length=32)
    """"province", "city", "county" (the levels departments belong to) or any other text; joins of
    people of this level are served here (server.cluster.routing)."""
    signaling_url: str = ""
    """The node's public base URL as participants reach it (scheme, host, port; no path)."""
    media_addresses: list[str] = []
    """Addresses this node's SFU is reached at (announced in the directory for the cascade)."""
    redis_url: str = ""
    namespace: str = Field("lianshen", min_length=1, max_length=64, pattern=NAME)
    """Prefix of every Redis key and the socket.io channel: systems (or tests) sharing a Redis."""
    lease_seconds: float = Field(15.0, ge=1.0, le=600.0)
    """A node's directory entries expire this long after its last heartbeat (every third of it)."""

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("signaling_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") \
                or parts.query or parts.fragment:
            raise ValueError("must be http(s)://host[:port] with no path, e.g. https://lianshen-city.example:8443")
        return value.rstrip("/")

    @field_validator("media_addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_address(item)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in REDIS_SCHEMES:
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _a_cluster_names_its_nodes(self) -> NodeSettings:
        if self.redis_url and not (self.id and self.signaling_url):
            raise ValueError("with redis_url, give the node's id and signaling_url (other nodes send people there)")
        return self

    @property
    def clustered(self) -> bool:
        return bool(self.redis_url)

    @property
    def heartbeat_seconds(self) -> float:
        """Three heartbeats per lease: one lost beat does not expire a living node."""
        return self.lease_seconds / 3
