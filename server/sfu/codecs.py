"""Which codecs the SFU negotiates on each side.

Frames are forwarded as they were encoded, so a subscriber's m-line must carry
exactly the codec (and H.264 profile) its producer uses. A publisher sends the
first codec of the SFU's answer, so the SFU orders what it answers with by its
own preference: Opus for audio, ``SfuSettings.video_codecs`` for video.
"""

from collections.abc import Sequence

from aiortc import RTCRtpSender, RTCRtpTransceiver
from aiortc.codecs import is_rtx
from aiortc.rtcrtpparameters import RTCRtpCodecCapability, RTCRtpCodecParameters

RTX_MIME_TYPE = "video/rtx"


def prefer_publish_codecs(transceiver: RTCRtpTransceiver, video_codecs: Sequence[str]) -> None:
    """Order a publish m-line's negotiated codecs by the SFU's preference.

    Call between ``setRemoteDescription(offer)`` and ``createAnswer()``.
    Nothing is removed, so an offer the SFU can take is never refused over
    preference; retransmission entries go last so they are never chosen.
    """
    preferred = ["audio/opus", *(mime.lower() for mime in video_codecs)]

    def rank(codec: RTCRtpCodecParameters) -> tuple[bool, int]:
        mime = codec.mimeType.lower()
        return is_rtx(codec), preferred.index(mime) if mime in preferred else len(preferred)

    # aiortc 1.16 internal: setRemoteDescription() stores the codecs common to the
    # offer and aiortc in RTCRtpTransceiver._codecs; createAnswer() lists them in
    # that order.
    transceiver._codecs = sorted(transceiver._codecs, key=rank)


def _rtx() -> list[RTCRtpCodecCapability]:
    return [
        codec
        for codec in RTCRtpSender.getCapabilities("video").codecs
        if codec.mimeType.lower() == RTX_MIME_TYPE
    ]


def subscribe_preferences(codec: RTCRtpCodecCapability) -> list[RTCRtpCodecCapability]:
    """The one codec a subscriber m-line offers, with retransmission for video."""
    return [codec] + (_rtx() if codec.mimeType.lower().startswith("video/") else [])
