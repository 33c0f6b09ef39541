"""Simulcast wire formats: the SDP lines read and answered, VP8 picture numbering across switches."""

import pytest
from aiortc.codecs.vpx import Vp8Encoder

from server.sfu.simulcast_sdp import RID_URI, SimulcastError, accept_simulcast, offer_simulcast, read_simulcast
from server.sfu.vp8 import PictureNumbering, keyframe_size, read_descriptor

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n"
)


def test_a_simulcast_offer_is_read_lowest_first_and_answered() -> None:
    offer = offer_simulcast(OFFER, "1", ("q", "h", "f"), 10)
    (layers,) = read_simulcast(offer).values()
    assert layers.mid == "1" and layers.rids == ("q", "h", "f") and layers.rid_extension_id == 10
    answer = accept_simulcast(OFFER.replace("sendonly", "recvonly"), {"1": layers})
    video = answer.split("m=video")[1]
    assert f"a=extmap:10 {RID_URI}" in video and "a=rid:h recv" in video
    assert "a=simulcast:recv q;h;f" in video and "simulcast" not in answer.split("m=video")[0]
    assert read_simulcast(OFFER) == {}


@pytest.mark.parametrize("broken", [
    "a=simulcast:recv q;h",  # not sending
    "a=simulcast:send q",  # one layer is no simulcast
    "a=simulcast:send q;~h",  # paused layer
    "a=simulcast:send q;q",  # twice the same
    "a=simulcast:send q;x",  # x has no a=rid line
])
def test_malformed_simulcast_is_refused_with_a_reason(broken: str) -> None:
    offer = offer_simulcast(OFFER, "1", ("q", "h"), 10).replace("a=simulcast:send q;h", broken)
    with pytest.raises(SimulcastError):
        read_simulcast(offer)


def test_picture_ids_continue_across_a_layer_switch() -> None:
    numbering = PictureNumbering()
    first = Vp8Encoder._packetize(b"\x00" * 50, 1000)[0]
    assert read_descriptor(numbering.rewrite(first)).picture_id == 1000  # the first layer as it is
    other_layer = Vp8Encoder._packetize(b"\x00" * 50, 20)[0]
    numbering.continue_from_here(other_layer)
    assert read_descriptor(numbering.rewrite(other_layer)).picture_id == 1001
    later = Vp8Encoder._packetize(b"\x00" * 50, 21)[0]
    assert read_descriptor(numbering.rewrite(later)).picture_id == 1002
    assert read_descriptor(numbering.rewrite(later, sent=False)).picture_id == 1002  # a resend: same


def test_a_keyframe_tells_its_size() -> None:
    # frame tag (key frame), start code, 14-bit width and height, little-endian
    frame = b"\x10\x02\x00\x9d\x01\x2a" + (960).to_bytes(2, "little") + (540).to_bytes(2, "little")
    assert keyframe_size(Vp8Encoder._packetize(frame + b"\x00" * 20, 5)[0]) == (960, 540)
    assert keyframe_size(b"\x10") is None
