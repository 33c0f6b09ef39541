"""ICE servers: the settings' entries, checked once, for the SFU and for each client.

An entry is a browser RTCIceServer dictionary (``urls``, optional ``username``/``credential``) or,
for a coturn server run with ``use-auth-secret``, ``urls`` plus ``secret`` (the server's
``static-auth-secret``) and optional ``ttl_seconds``: each client then gets its own time-limited
credentials (the TURN REST scheme: username ``<expiry>:<label>``, credential
base64(HMAC-SHA1(secret, username))), so no long-lived TURN password is ever handed out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from server.settings import SfuSection
from server.sfu import IceServer, SfuSettings

DEFAULT_TTL_S = 12 * 3600


class IceServerEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None
    secret: str | None = Field(None, min_length=16)
    ttl_seconds: int = Field(DEFAULT_TTL_S, ge=60)

    @field_validator("urls", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("urls")
    @classmethod
    def _schemes(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("stun:", "turn:", "turns:")):
                raise ValueError(f"{url!r}: must start with stun:, turn: or turns:")
        return value

    def for_client(self, label: str, now: float) -> dict[str, Any]:
        entry: dict[str, Any] = {"urls": list(self.urls)}
        if self.secret is not None:
            username = f"{int(now) + self.ttl_seconds}:{label}"
            mac = hmac.new(self.secret.encode(), username.encode(), hashlib.sha1).digest()
            entry.update(username=username, credential=base64.b64encode(mac).decode())
        elif self.username is not None:
            entry.update(username=self.username, credential=self.credential or "")
        return entry


def parse_entries(section: SfuSection) -> tuple[IceServerEntry, ...]:
    """The configured ICE servers; ValueError naming the bad entry (stops the server at start)."""
    entries = []
    for index, raw in enumerate(section.ice_servers):
        try:
            entries.append(IceServerEntry.model_validate(raw))
        except ValidationError as exc:
            raise ValueError(f"sfu.ice_servers[{index}]: {exc}") from None
    return tuple(entries)


def sfu_settings(section: SfuSection, entries: tuple[IceServerEntry, ...]) -> SfuSettings:
    """The SFU's own settings from the app's [sfu] section.

    The SFU itself uses only STUN and statically credentialed TURN entries: secret-based ones
    produce credentials that expire, and a server with a reachable address needs no relay.
    """
    own = tuple(IceServer(tuple(e.urls), e.username, e.credential) for e in entries if e.secret is None)
    base = SfuSettings()
    return SfuSettings(
        ice_gather_addresses=tuple(section.ice_gather_addresses),
        announced_address=section.announced_address or None,
        allowed_networks=tuple(section.allowed_networks),
        denied_networks=tuple(section.denied_networks) or base.denied_networks,
        ice_servers=own,
        forwarding=section.forwarding,
        native_send=section.native_send,
    )


def client_ice_servers(entries: tuple[IceServerEntry, ...], label: str) -> list[dict[str, Any]]:
    return [entry.for_client(label, time.time()) for entry in entries]
