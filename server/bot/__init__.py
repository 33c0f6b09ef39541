"""Synthetic meeting participants: pre-encoded media in, frame counts and decode checks out."""
