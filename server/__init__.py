"""Lianshen server: the composition root (web, signaling, SFU, persistence, auth, jobs)."""
