"""Every declared API endpoint is covered by the authorisation matrix."""

from __future__ import annotations

import importlib
import pkgutil
import re

import tests.api
from server.app import API_MODULES, _load
from server.web.api import API
from tests.api.matrix import ALL_PROBES


def _shape(path: str) -> str:
    """The route a probe hits: placeholders unified, any query string dropped."""
    return re.sub(r"{[^}]+}", "{}", path.split("?", 1)[0])


def test_every_endpoint_has_a_probe() -> None:
    _load("server.web.api", API_MODULES)
    for module in pkgutil.iter_modules(tests.api.__path__):
        importlib.import_module(f"tests.api.{module.name}")
    probed = {(p.method, _shape(p.template)) for p in ALL_PROBES}
    missing = sorted(f"{e.method} {e.full_path}" for e in API.endpoints
                     if (e.method, _shape(e.full_path)) not in probed)
    assert not missing, "endpoints without an authorisation probe:\n" + "\n".join(missing)
