"""Which pages may open the meeting socket: our own origin only.

engine.io's built-in check compares ``Origin`` with ``<scheme>://<Host>``, taking the scheme from
X-Forwarded-Proto or else assuming plain HTTP, so it refuses every browser when the server
terminates TLS itself. The rule here is the one the CSRF check of the web pages applies
(server/web/middleware.py): the origin's host and port are the ones the request was sent to.
Host is what the browser addressed (a reverse proxy passes it on: config/nginx.example.conf).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def same_origin(origin: str | None, environ: dict[str, Any]) -> bool:
    """engine.io ``cors_allowed_origins`` callable: True for a page served by this host."""
    request = environ.get("aiohttp.request")
    if not origin or request is None:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == request.host
