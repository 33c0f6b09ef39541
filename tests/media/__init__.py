"""Media tests: real aiortc peers over loopback."""
