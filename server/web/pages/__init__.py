"""Server-rendered HTML pages (Jinja2) for people using a browser."""
