"""Numbers typed into URLs and forms (ids, version numbers): ASCII digits within the database's
INTEGER range, or not a number at all.

``str.isdigit()`` and ``int()`` accept every Unicode digit, and ``isdigit()`` also superscripts that
``int()`` then refuses: "/cases/١" and "/cases/𝟙" reached case 1 and "/cases/¹" was a 500. A number
past PostgreSQL's INTEGER reached the driver and failed there (another 500). Here anything but
1-10 ASCII digits up to PG_INT_MAX is no number, so the caller answers 404 (or refuses the field).
"""

from __future__ import annotations

import re

from aiohttp import web

from server.schemas.fields import PG_INT_MAX
from server.web.errors import ApiError

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_id(raw: object) -> int | None:
    """The non-negative integer ``raw`` spells in ASCII digits, or None for anything else."""
    if not isinstance(raw, str) or _ASCII_DIGITS.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if value <= PG_INT_MAX else None


def path_id(request: web.Request, name: str) -> int:
    """A numeric path parameter; anything else names no resource: 404."""
    value = parse_id(request.match_info[name])
    if value is None:
        raise ApiError(404)
    return value
