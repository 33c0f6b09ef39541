"""A connection's incoming SRTP and SRTCP unprotected: in one native call, or by pylibsrtp.

``rtp_in.py`` unprotects every datagram a publisher sends. pylibsrtp's ``Session.unprotect``
does it in Python around a cffi call (argument checks, a length allocated, a copy in, a copy out)
and raises on a refused packet; per datagram that was ~30 µs of the server's thread CPU on a busy
machine (bench/RESULTS.md, issue 15). The native ``Unprotector`` of ``_srtp_recv.c`` (built by
``scripts/setup.sh``) does the same in one call on the transport's own libsrtp context
(``srtp_binding.py``). Both answer None for a packet libsrtp refuses, and give the same packets
(tests/unit/test_srtp_recv.py). Without the extension, or with a pylibsrtp whose functions are not
libsrtp 2's, :func:`unprotector` gives the Python one.
"""

import logging
from collections.abc import Callable
from typing import Protocol

import pylibsrtp

from .srtp_binding import context_address, function_address

logger = logging.getLogger(__name__)


def _load() -> tuple[type, int, int] | None:
    """(the extension's Unprotector type, srtp_unprotect's address, srtp_unprotect_rtcp's), or None."""
    try:
        from ._srtp_recv import Unprotector
    except ImportError as exc:
        logger.info("native SRTP unprotect unavailable (%s): unprotecting with pylibsrtp", exc)
        return None
    rtp, rtcp = function_address("srtp_unprotect"), function_address("srtp_unprotect_rtcp")
    return None if rtp is None or rtcp is None else (Unprotector, rtp, rtcp)


TOO_LONG = -1
"""``status`` of a datagram longer than pylibsrtp's buffer (the value ``_srtp_recv.c`` uses)."""

_NATIVE = _load()

NATIVE_AVAILABLE = _NATIVE is not None


class Unprotect(Protocol):
    """What both implementations offer."""

    @property
    def status(self) -> int:
        """Why the last refused packet was refused (libsrtp's status; :data:`TOO_LONG`)."""
        ...

    def rtp(self, datagram: bytes, /) -> bytes | None:
        """The RTP packet, or None if libsrtp refuses it."""
        ...

    def rtcp(self, datagram: bytes, /) -> bytes | None:
        """The RTCP compound packet, or None if libsrtp refuses it."""
        ...


class PythonUnprotector:
    """The same as the native unprotector, through pylibsrtp's own methods."""

    def __init__(self, session: pylibsrtp.Session) -> None:
        self._session = session
        self.status = 0

    def rtp(self, datagram: bytes, /) -> bytes | None:
        return self._refused_as_none(self._session.unprotect, datagram)

    def rtcp(self, datagram: bytes, /) -> bytes | None:
        return self._refused_as_none(self._session.unprotect_rtcp, datagram)

    def _refused_as_none(self, unprotect: Callable[[bytes], bytes], datagram: bytes) -> bytes | None:
        try:
            return unprotect(datagram)
        except pylibsrtp.Error as exc:  # pylibsrtp internal: its message is ERRORS[status]
            errors: list[str] = getattr(pylibsrtp, "ERRORS", [])
            self.status = errors.index(str(exc)) if str(exc) in errors else 1
        except ValueError:  # too long for pylibsrtp's buffer
            self.status = TOO_LONG
        return None


def unprotector(session: pylibsrtp.Session, native: bool = True) -> Unprotect:
    """The unprotector for ``session``: the native one where this process has it and ``native``."""
    if native and _NATIVE is not None:
        unprotector_type, rtp, rtcp = _NATIVE
        native_one: Unprotect = unprotector_type(session, rtp, rtcp, context_address(session))
        return native_one
    return PythonUnprotector(session)
