"""The signaling layer's pure parts: token signatures, the event budget, SDP checks, TURN credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from server.settings import load_settings
from server.signaling import sdp, tokens
from server.signaling.errors import SignalingError
from server.signaling.ice import IceServerEntry, parse_entries, sfu_settings
from server.signaling.ratelimit import EventBudget, Verdict

SECRET = b"k" * 64
NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def claims(minutes: int = 10) -> tokens.TokenClaims:
    return tokens.TokenClaims("ab" * 16, 7, NOW + timedelta(minutes=minutes))


def test_token_round_trip_and_refusals() -> None:
    token = tokens.sign(SECRET, claims())
    assert tokens.verify(SECRET, token, now=NOW) == tokens.TokenClaims("ab" * 16, 7, NOW + timedelta(minutes=10))
    with pytest.raises(SignalingError, match="token_expired"):
        tokens.verify(SECRET, token, now=NOW + timedelta(minutes=10))
    prefix, payload, signature = token.split(".")
    forged_payload = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    for bad in (f"{prefix}.{forged_payload}.{signature}", token + "x", "lsj1..", "", "x" * 600,
                tokens.sign(b"other" * 10, claims())):
        with pytest.raises(SignalingError, match="bad_token"):
            tokens.verify(SECRET, bad, now=NOW)


def test_secret_is_generated_once_with_owner_only_permissions(tmp_path) -> None:
    settings = load_settings(data_dir=tmp_path / "d1")
    first = tokens.token_secret(settings)
    path = tmp_path / "d1" / tokens.SECRET_FILE
    assert path.stat().st_mode & 0o777 == 0o600 and len(first) == 64
    assert tokens._read_or_create(path) == first  # a restart reads the same secret
    configured = load_settings(data_dir=tmp_path / "d2", auth={"token_secret": "s" * 40})
    assert tokens.token_secret(configured) == b"s" * 40
    assert not (tmp_path / "d2" / tokens.SECRET_FILE).exists()


def test_event_budget_allows_bursts_refuses_floods_then_disconnects() -> None:
    clock = [0.0]
    budget = EventBudget(rate=2.0, burst=3, disconnect_after=4, clock=lambda: clock[0])
    assert [budget.take() for _ in range(3)] == [Verdict.ALLOW] * 3
    assert budget.take() is Verdict.REFUSE  # told once
    assert budget.take() is Verdict.DROP  # then silence
    clock[0] = 0.5  # one event's worth refilled
    assert budget.take() is Verdict.ALLOW
    assert budget.take() is Verdict.REFUSE
    assert budget.take() is Verdict.DISCONNECT


OFFER = ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
         "a=rtpmap:111 opus/48000/2\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
         "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\n")


@pytest.mark.parametrize("text, reason", [
    ("", "'v=0'"),
    ("v=0\r\nnot sdp", "'o='"),
    ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", "no media"),
    (OFFER.replace("a=ice-ufrag:abcd\r\n", ""), "ICE"),
    (OFFER.replace("a=fingerprint", "a=x-fingerprint"), "DTLS"),
    (OFFER.replace("a=mid:0\r\n", ""), "mid"),
    (OFFER + "a=bad\x01line\r\n", "not an SDP line"),
    (OFFER + "".join(OFFER[OFFER.index("m="):].replace("mid:0", f"mid:{i}") for i in range(1, 9)),
     "media sections"),
])
def test_sdp_check_refuses_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(SignalingError) as refusal:
        sdp.check(text, offer=True)
    assert refusal.value.code == "bad_sdp" and reason in refusal.value.details["reason"]


def test_sdp_check_accepts_a_real_offer_and_candidates() -> None:
    sdp.check(OFFER, offer=True)
    sdp.check_candidate("candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host")
    sdp.check_candidate("")
    with pytest.raises(SignalingError, match="bad_sdp"):
        sdp.check_candidate("candidate:garbage")


def test_turn_rest_credentials_and_sfu_mapping() -> None:
    entry = IceServerEntry.model_validate({"urls": "turn:turn.example.cn:3478", "secret": "s" * 32,
                                           "ttl_seconds": 600})
    client = entry.for_client("p1", now=1_000_000)
    assert client["username"] == "1000600:p1"
    expected = base64.b64encode(hmac.new(b"s" * 32, b"1000600:p1", hashlib.sha1).digest()).decode()
    assert client["credential"] == expected and client["urls"] == ["turn:turn.example.cn:3478"]
    settings = load_settings(sfu={"ice_servers": [
        {"urls": ["stun:stun.example.cn:3478"]},
        {"urls": ["turn:turn.example.cn:3478"], "secret": "s" * 32}],
        "ice_gather_addresses": ["127.0.0.1"], "announced_address": ""})
    entries = parse_entries(settings.sfu)
    mapped = sfu_settings(settings.sfu, entries)
    assert [s.urls for s in mapped.ice_servers] == [("stun:stun.example.cn:3478",)]  # no expiring creds
    assert mapped.ice_gather_addresses == ("127.0.0.1",) and mapped.announced_address is None
    with pytest.raises(ValueError, match=r"sfu.ice_servers\[0\]"):
        parse_entries(load_settings(sfu={"ice_servers": [{"urls": ["http://x"]}]}).sfu)
