"""The meeting record: the vocabulary of a meeting's event log, its typed events, and the one
reducer that folds them into the state of a review.

A library beside ``recorder/`` and ``minutes/``: it never imports ``server/``. The server writes
events through ``record.events.parse_event`` (nothing unknown or malformed reaches the log), and
every reader (the live review, the minutes, the recording chapters, the archive) takes the log
through these models, so no reader re-declares an event's fields.
"""
