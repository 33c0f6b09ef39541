"""Minutes library: case + meeting event log in, structured minutes and renderings out (never imports server)."""
