"""Data shapes shared by the API, the pages and the services: strict input bases, bounded field
types and short references. Kept outside `server.web` so services do not depend on the web layer."""
