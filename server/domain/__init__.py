"""Plain-Python rules of parallel approval (cases, calendar, meetings, event log): no I/O here."""
