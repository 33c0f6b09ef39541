"""Browser client assets (templates, scripts, styles, message catalogs) served by the server."""
