"""Meeting join tokens: signed, expiring, single-use links for remote sites and invited guests.

The token is ``lsj1.<payload>.<signature>`` (base64url): the payload names a row of ``join_tokens``,
the meeting and the expiry; the signature is HMAC-SHA256 under the server's secret. Forged or
altered tokens are refused without touching the database and expired ones by their own claim;
the row says whom the token admits and whether it was used, which makes replay impossible.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import JoinToken
from server.settings import Settings
from server.signaling.errors import SignalingError

PREFIX = "lsj1"
SECRET_FILE = "secret.key"
_secret_lock = threading.Lock()
_secrets: dict[Path, bytes] = {}


def token_secret(settings: Settings) -> bytes:
    """The signing secret: from settings, or generated once into data_dir/secret.key (0600).

    Generated rather than defaulted so that no two installations share a secret; created with
    O_EXCL so two processes starting together cannot write different ones.
    """
    if settings.auth.token_secret:
        return settings.auth.token_secret.encode()
    path = (settings.data_dir / SECRET_FILE).resolve()
    with _secret_lock:
        if path not in _secrets:
            _secrets[path] = _read_or_create(path)
        return _secrets[path]


def _read_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_bytes().strip()
        if len(secret) < 32:
            raise RuntimeError(f"{path}: secret too short; delete it to generate a new one") from None
        return secret
    with os.fdopen(descriptor, "wb") as handle:
        secret = secrets.token_hex(32).encode()
        handle.write(secret)
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: str) -> str:
    return _b64(hmac.new(secret, f"{PREFIX}.{payload}".encode(), hashlib.sha256).digest())


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says; the row ``token_id`` says the rest."""

    token_id: str
    meeting_id: int
    expires_at: datetime


def sign(secret: bytes, claims: TokenClaims) -> str:
    document = {"j": claims.token_id, "m": claims.meeting_id, "x": int(claims.expires_at.timestamp())}
    payload = _b64(json.dumps(document, separators=(",", ":")).encode())
    return f"{PREFIX}.{payload}.{_signature(secret, payload)}"


def verify(secret: bytes, token: str, now: datetime | None = None) -> TokenClaims:
    """Claims of an authentic, unexpired token; SignalingError bad_token / token_expired."""
    # ASCII only (tokens are base64url): other text would fail compare_digest and encode() instead
    parts = token.split(".") if isinstance(token, str) and len(token) < 512 and token.isascii() else []
    if len(parts) != 3 or parts[0] != PREFIX:
        raise SignalingError("bad_token")
    if not hmac.compare_digest(_signature(secret, parts[1]), parts[2]):
        raise SignalingError("bad_token")
    try:
        document = json.loads(_unb64(parts[1]))
        claims = TokenClaims(str(document["j"]), int(document["m"]),
                             datetime.fromtimestamp(int(document["x"]), UTC))
    except (ValueError, KeyError, TypeError):
        raise SignalingError("bad_token") from None
    if claims.expires_at <= (now or datetime.now(UTC)):
        raise SignalingError("token_expired")
    return claims


@dataclass(frozen=True)
class Invitee:
    """Whom a token admits: an existing account, or a guest by name and unit."""

    user_id: int | None = None
    guest_name: str = ""
    guest_unit: str = ""


async def issue(db: AsyncSession, secret: bytes, meeting_id: int, issued_by: int, invitee: Invitee,
                ttl: timedelta, capacity: str = "observer") -> tuple[str, JoinToken]:
    """Store a new token row (flushed, committed with the caller) and return the signed token."""
    now = datetime.now(UTC).replace(microsecond=0)
    row = JoinToken(id=secrets.token_hex(16), meeting_id=meeting_id, user_id=invitee.user_id,
                    guest_name=invitee.guest_name, guest_unit=invitee.guest_unit, capacity=capacity,
                    issued_by_id=issued_by, issued_at=now, expires_at=now + ttl, used_at=None)
    db.add(row)
    await db.flush()
    return sign(secret, TokenClaims(row.id, meeting_id, row.expires_at)), row


async def unused_row(db: AsyncSession, claims: TokenClaims) -> JoinToken:
    """The token's row if it exists and is still unused; SignalingError otherwise."""
    row = await db.get(JoinToken, claims.token_id)
    if row is None or row.meeting_id != claims.meeting_id:
        raise SignalingError("bad_token")
    if row.used_at is not None:
        raise SignalingError("token_used")
    return row


async def consume(db: AsyncSession, claims: TokenClaims) -> None:
    """Mark the token used, atomically: of two joins racing with one token, one wins."""
    # An UPDATE's result is a CursorResult (rowcount); execute() is typed for any statement.
    result = cast(CursorResult[Any], await db.execute(
        update(JoinToken).where(JoinToken.id == claims.token_id, JoinToken.used_at.is_(None))
        .values(used_at=datetime.now(UTC))
    ))
    if result.rowcount != 1:
        raise SignalingError("token_used")
