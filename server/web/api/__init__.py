"""The JSON API under /api/v1: one module per resource, all declared on `API`."""

from server.web.api.registry import Api

API = Api()
