"""The web face of the server: HTML pages, the JSON API under /api/v1, middleware."""
