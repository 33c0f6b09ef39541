"""Application services: domain rules applied to the database, shared by API, pages and CLI."""
