"""VP8 payload descriptor (RFC 7741): read, and picture numbers renumbered for a subscriber.

Each simulcast layer is its own VP8 stream with its own picture ids and TL0PICIDX. A subscriber
sees one stream, whatever layer it comes from, and a receiver (libwebrtc's frame reference
finder) drops frames whose picture id jumps backwards; so a consumer that switches layers
shifts the new layer's numbers to continue right after the last ones it sent. The shift is an
offset, so a retransmitted packet gets the same numbers as its first copy.

Temporal layers (L1T2, L1T3) travel in the same descriptor: TID (the frame's temporal layer),
Y (layer sync: the frame references only the base layer, so a receiver can start that layer
here) and TL0PICIDX (counts base-layer frames; a higher layer's frame names the base frame it
builds on). A consumer that leaves out the upper layers' frames closes the holes in the picture
ids too (libwebrtc would wait for the missing pictures), see ``temporal.py``; TL0PICIDX has
none, since the base layer is always sent.
"""

from typing import NamedTuple

PICTURE_ID_MOD_LONG = 1 << 15
PICTURE_ID_MOD_SHORT = 1 << 7
TL0_MOD = 1 << 8
TEMPORAL_TOP = 2
"""The highest temporal layer told apart (L1T3's T2). A TID of 3 (a fourth layer, which no
browser sends for VP8) counts as 2: the two go or stay together."""


class Descriptor(NamedTuple):
    """The descriptor's optional fields, where the numbers sit in the payload, (None: absent)."""

    picture_id: int | None
    picture_id_at: int
    long_picture_id: bool
    tl0: int | None
    tl0_at: int
    tid: int | None
    layer_sync: bool
    keyidx: int | None


NO_DESCRIPTOR = Descriptor(None, 0, False, None, 0, None, False, None)

Temporal = tuple[int, bool] | None
"""(TID, Y) of a packet's frame; None when its descriptor carries no TID."""

_TEMPORAL: tuple[tuple[int, bool], ...] = tuple(
    (min(tid, TEMPORAL_TOP), bool(sync)) for tid in range(4) for sync in (0, 1)
)
"""Every (TID, Y) pair by the T/K byte's top three bits, built once: read per packet."""


def read_descriptor(payload: bytes) -> Descriptor:
    """The descriptor's picture id, TL0PICIDX, TID/Y and KEYIDX, if the payload carries them."""
    if len(payload) < 2 or not payload[0] & 0x80:  # X: no extension byte, no ids
        return NO_DESCRIPTOR
    flags = payload[1]
    index = 2
    picture_id = None
    picture_id_at = 0
    long_id = False
    if flags & 0x80:  # I
        if len(payload) <= index:
            return NO_DESCRIPTOR
        picture_id_at = index
        long_id = bool(payload[index] & 0x80)
        if long_id:
            if len(payload) < index + 2:
                return NO_DESCRIPTOR
            picture_id = ((payload[index] & 0x7F) << 8) | payload[index + 1]
            index += 2
        else:
            picture_id = payload[index] & 0x7F
            index += 1
    tl0 = None
    tl0_at = 0
    if flags & 0x40:  # L
        if len(payload) <= index:
            return NO_DESCRIPTOR
        tl0, tl0_at = payload[index], index
        index += 1
    tid = None
    layer_sync = False
    keyidx = None
    if flags & 0x30:  # T or K: one byte TID(2) Y(1) KEYIDX(5)
        if len(payload) <= index:
            return NO_DESCRIPTOR
        t_k = payload[index]
        if flags & 0x20:
            tid, layer_sync = _TEMPORAL[t_k >> 5]
        if flags & 0x10:
            keyidx = t_k & 0x1F
    return Descriptor(picture_id, picture_id_at, long_id, tl0, tl0_at, tid, layer_sync, keyidx)


def read_temporal(payload: bytes, start: int = 0) -> Temporal:
    """(TID, Y) of the descriptor at ``payload[start]``: what the packet path reads of every packet.

    The producer reads it once per packet for all its subscribers; only the bytes up to the T/K
    byte are looked at. ``start`` skips an RTX payload's original sequence number.
    """
    if len(payload) < start + 2 or not payload[start] & 0x80:  # no extension byte
        return None
    flags = payload[start + 1]
    if not flags & 0x20:  # T
        return None
    index = start + 2
    if flags & 0x80:  # I
        if len(payload) <= index:
            return None
        index += 2 if payload[index] & 0x80 else 1
    if flags & 0x40:  # L
        index += 1
    if len(payload) <= index:
        return None
    return _TEMPORAL[payload[index] >> 5]


class PictureNumbering:
    """One consumer's picture id / TL0PICIDX shift, and the last payload it sent."""

    def __init__(self) -> None:
        self._picture_shift = 0
        self._tl0_shift = 0
        self._last_sent: bytes | None = None
        """As sent; its numbers are read only when a new layer must continue from them (a
        payload passed on unchanged costs no parse)."""

    def continue_from_here(self, payload: bytes) -> None:
        """A new layer starts with this packet: number it right after the last one sent."""
        if self._last_sent is None:
            return
        last = read_descriptor(self._last_sent)
        ids = read_descriptor(payload)
        if ids.picture_id is not None and last.picture_id is not None:
            self._picture_shift = last.picture_id + 1 - ids.picture_id
        if ids.tl0 is not None and last.tl0 is not None:
            self._tl0_shift = last.tl0 + 1 - ids.tl0

    def rewrite(self, payload: bytes, sent: bool = True, pictures_dropped: int = 0) -> bytes:
        """``payload`` with shifted numbers; ``sent`` (not a retransmission) records them.

        ``pictures_dropped``: frames of this run left out before this one (temporal layers not
        forwarded), so the picture ids the subscriber sees have no holes.
        """
        picture_shift = self._picture_shift - pictures_dropped
        if not picture_shift and not self._tl0_shift:  # the first layer, nothing left out: as it is
            if sent:
                self._last_sent = payload
            return payload
        ids = read_descriptor(payload)
        if ids.picture_id is None and ids.tl0 is None:
            return payload
        data = bytearray(payload)
        if ids.picture_id is not None:
            modulus = PICTURE_ID_MOD_LONG if ids.long_picture_id else PICTURE_ID_MOD_SHORT
            picture_id = (ids.picture_id + picture_shift) % modulus
            if ids.long_picture_id:
                data[ids.picture_id_at] = 0x80 | (picture_id >> 8)
                data[ids.picture_id_at + 1] = picture_id & 0xFF
            else:
                data[ids.picture_id_at] = picture_id
        if ids.tl0 is not None:
            data[ids.tl0_at] = (ids.tl0 + self._tl0_shift) % TL0_MOD
        rewritten = bytes(data)
        if sent:
            self._last_sent = rewritten
        return rewritten


def descriptor_length(payload: bytes) -> int:
    """Bytes of the RFC 7741 payload descriptor at the start of ``payload`` (0 if malformed)."""
    if not payload:
        return 0
    index = 1
    if payload[0] & 0x80:  # X
        if len(payload) < 2:
            return 0
        flags = payload[1]
        index = 2
        if flags & 0x80:  # I
            if len(payload) <= index:
                return 0
            index += 2 if payload[index] & 0x80 else 1
        if flags & 0x40:  # L
            index += 1
        if flags & 0x30:  # T or K
            index += 1
    return index if index < len(payload) else 0


def keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) from the first packet of a VP8 key frame (RFC 6386 section 9.1)."""
    start = descriptor_length(payload)
    if not start or len(payload) < start + 10:
        return None
    header = payload[start + 6 : start + 10]
    return (header[0] | header[1] << 8) & 0x3FFF, (header[2] | header[3] << 8) & 0x3FFF
