"""Response headers every answer carries, so a browser never frames, sniffs or leaks our pages.

Set on `on_response_prepare` (not in a middleware) because static files, error pages and
socket.io's long-polling answers all pass through it, including responses raised as exceptions.
Handlers that set a stricter policy of their own (the minutes document's sandbox CSP) keep it.
"""

from __future__ import annotations

from aiohttp import web

BASELINE = {
    # No other site may put our pages in a frame (clickjacking of the chair's buttons); the minutes
    # page frames its own document, so our own origin may.
    "X-Frame-Options": "SAMEORIGIN",
    "Content-Security-Policy": "frame-ancestors 'self'",
    # A file is what its Content-Type says, never what its bytes look like.
    "X-Content-Type-Options": "nosniff",
    # Links to other sites do not carry our paths (meeting ids, join-token links).
    "Referrer-Policy": "same-origin",
}


async def add_baseline_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in BASELINE.items():
        response.headers.setdefault(name, value)


def install(app: web.Application) -> None:
    app.on_response_prepare.append(add_baseline_headers)
