"""Authentication (passwords, sessions, join tokens, throttling) and authorisation (who may see what)."""
