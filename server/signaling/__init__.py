"""Live meetings over socket.io: who joins, the lobby, moderation, reconnects, the event log.

See docs/protocol.md for the events; ``attach(app)`` wires it and the SFU into the aiohttp app.
"""

from server.signaling.server import SIGNALING, Signaling, attach

__all__ = ["SIGNALING", "Signaling", "attach"]
