"""Socket.io packets the server cannot read become a refusal instead of silence.

python-socketio decodes each packet's JSON itself, inside Engine.IO's message handler. A payload
nested deeper than the decoder's recursion limit (RecursionError), an integer of more than 100
digits (Engine.IO's own limit, ValueError) or an event that is not ``[name, ...]`` with a string
name (IndexError/TypeError further on) raised there, where Engine.IO logs and drops it: the client
waited for an ack that never came. With this packet class such an EVENT arrives as the event
UNDECODABLE (its ack id kept), which the signaling gate refuses with ``invalid_payload`` like any
other malformed payload; a CONNECT whose auth cannot be decoded carries UNDECODABLE as its auth and
is refused.
"""

from __future__ import annotations

from typing import Any

from socketio import packet

UNDECODABLE = "(undecodable)"


class TolerantPacket(packet.Packet):
    """A socket.io packet whose undecodable JSON payload is replaced by the UNDECODABLE marker."""

    def decode(self, encoded_packet: Any) -> int:
        try:
            attachments: int = super().decode(encoded_packet)
        except (ValueError, RecursionError):
            if self.packet_type not in (packet.EVENT, packet.CONNECT):
                raise
            attachments = 0
            self.data = [UNDECODABLE] if self.packet_type == packet.EVENT else UNDECODABLE
        if self.packet_type == packet.EVENT and not (
                isinstance(self.data, list) and self.data and isinstance(self.data[0], str)):
            self.data = [UNDECODABLE]
        return attachments
