"""The native RTP parse (``rtp_parse.py``) builds what aiortc's ``RtpPacket.parse`` builds, and
leaves to aiortc every packet aiortc refuses, so errors stay aiortc's."""

import random
from typing import Any

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensions, HeaderExtensionsMap, RtpPacket

from server.sfu import rtp_parse
from server.sfu.rtp_parse import NATIVE_PARSE, parse_rtp

native_parse: Any = rtp_parse._native_parse
"""The extension's own function (None where it is not built), called with what it must refuse too."""

URIS = [
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:ietf:params:rtp-hdrext:toffset",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
]


def extensions_map(rng: random.Random) -> HeaderExtensionsMap:
    """Ids as a browser or aiortc numbers them (one-byte range), sometimes two-byte ones, some missing."""
    ids = rng.sample(range(1, 15), len(URIS)) if rng.random() < 0.8 else rng.sample(range(1, 256), len(URIS))
    chosen = [RTCRtpHeaderExtensionParameters(id=i, uri=uri) for i, uri in zip(ids, URIS, strict=True)
              if rng.random() < 0.85]
    mapping = HeaderExtensionsMap()
    mapping.configure(RTCRtpParameters(headerExtensions=chosen))
    return mapping


def packet(rng: random.Random, mapping: HeaderExtensionsMap) -> bytes:
    sent = RtpPacket(payload_type=rng.randrange(128), marker=rng.randrange(2),
                     sequence_number=rng.randrange(65536), timestamp=rng.getrandbits(32),
                     ssrc=rng.getrandbits(32), payload=rng.randbytes(rng.randrange(1300)))
    sent.csrc = [rng.getrandbits(32) for _ in range(rng.choice((0, 0, 0, 1, 15)))]
    sent.padding_size = rng.choice((0, 0, 0, 1, 7, 255))
    x = sent.extensions
    x.mid = rng.choice((None, "0", "1", "video", "中"))
    x.rtp_stream_id = rng.choice((None, "h", "q"))
    x.repaired_rtp_stream_id = rng.choice((None, "f"))
    x.abs_send_time = rng.choice((None, rng.getrandbits(24)))
    # aiortc writes this one as 2 bytes and reads 3 (struct.error): seldom, or it would hide the rest
    x.transmission_offset = rng.randrange(-(2**23), 2**23) if rng.random() < 0.05 else None
    x.audio_level = rng.choice((None, (rng.random() < 0.5, rng.randrange(128))))
    x.transport_sequence_number = rng.choice((None, rng.randrange(65536)))
    return sent.serialize(mapping)


def damaged(rng: random.Random, data: bytes) -> bytes:
    """Truncated, bit-flipped or garbage: what a broken or hostile sender puts on the wire."""
    choice = rng.randrange(5)
    if choice == 0:
        return data[:rng.randrange(len(data) + 1)]
    if choice == 1:
        at = rng.randrange(min(len(data), 40))
        return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]
    if choice == 2:  # a damaged extension block or padding byte
        at = rng.randrange(12, min(len(data), 60)) if len(data) > 12 else 0
        return data[:at] + rng.randbytes(rng.randrange(1, 5)) + data[at + 1:]
    if choice == 3:
        return data[:-1] + bytes([rng.randrange(256)])
    return bytes([0x80 | rng.randrange(64)]) + rng.randbytes(rng.randrange(40))


def aiortc_parse(data: bytes, mapping: HeaderExtensionsMap) -> RtpPacket | type[BaseException]:
    try:
        return RtpPacket.parse(data, mapping)
    except Exception as exc:  # noqa: BLE001 - which one aiortc raises is what is compared
        return type(exc)


def fields(item: Any) -> dict[str, Any]:
    """Every attribute, with its type: a bool where aiortc has an int would not be equal enough."""
    return {name: (type(value), value if name != "extensions" else fields(value)) for name, value in vars(item).items()}


def test_the_native_parse_builds_what_aiortc_builds() -> None:
    if not NATIVE_PARSE:
        pytest.skip("the native extension is not built")
    rng = random.Random(15)
    parsed = refused = left = 0
    for _ in range(20_000):
        mapping = extensions_map(rng)
        data = packet(rng, extensions_map(rng) if rng.random() < 0.1 else mapping)
        if rng.random() < 0.3:
            data = damaged(rng, data)
        expected = aiortc_parse(data, mapping)
        native = native_parse(data, mapping._HeaderExtensionsMap__ids, RtpPacket, HeaderExtensions)  # type: ignore[attr-defined]
        if isinstance(expected, RtpPacket):
            assert native is not None, data.hex()
            assert fields(native) == fields(expected), data.hex()
            parsed += 1
        else:  # aiortc refuses it: the native side leaves it to aiortc, which refuses it as before
            assert native is None, (expected, data.hex())
            with pytest.raises(expected):
                parse_rtp(data, mapping)
            refused += 1 if issubclass(expected, ValueError) else 0
            left += 1
    assert parsed > 10_000 and refused > 500 and left > refused  # struct.error cases too


def test_without_the_native_parse_aiortc_parses() -> None:
    rng = random.Random(1)
    mapping = extensions_map(rng)
    data = packet(rng, mapping)
    assert fields(parse_rtp(data, mapping, native=False)) == fields(RtpPacket.parse(data, mapping))
    with pytest.raises(ValueError):
        parse_rtp(b"\x80\x60", mapping, native=False)


def test_the_native_parse_refuses_what_is_not_its_input() -> None:
    if not NATIVE_PARSE:
        pytest.skip("the native extension is not built")
    ids = HeaderExtensionsMap()._HeaderExtensionsMap__ids  # type: ignore[attr-defined]
    for args in ((bytearray(20), ids, RtpPacket, HeaderExtensions), (bytes(20), ids, RtpPacket),
                 (bytes(20), ids, RtpPacket, None)):
        with pytest.raises(TypeError):
            native_parse(*args)
    extended = bytes([0x90]) + bytes(11) + b"\xbe\xde\x00\x01" + b"\x10\x30\x00\x00"
    with pytest.raises(AttributeError):  # an id source without the ids
        native_parse(extended, object(), RtpPacket, HeaderExtensions)
