"""libsrtp's functions as the native extensions call them: through pylibsrtp's own cffi binding.

The native sender (``srtp_send.py``) and unprotector (``srtp_recv.py``) do not link libsrtp
themselves: they call the very functions pylibsrtp's cffi module carries, at the addresses it
gives, on the ``srtp_t`` inside a ``pylibsrtp.Session``, so the crypto state (keys, sequence and
rollover bookkeeping, replay windows) stays the one aiortc's transport uses. That depends on
pylibsrtp internals, all here: its cffi ``_binding`` (``ffi``, ``lib``) and ``Session._srtp``
(the ``srtp_t *`` its ``__init__`` filled). A function whose signature is not libsrtp 2's, or a
pylibsrtp without that binding, gives None, and the callers stay in Python.
"""

import logging
from typing import Any

import pylibsrtp

logger = logging.getLogger(__name__)

SIGNATURE = "srtp_err_status_t(*)(struct srtp_ctx_t_ *, void *, int *)"
"""libsrtp 2's ``srtp_protect`` / ``srtp_protect_rtcp`` / ``srtp_unprotect`` /
``srtp_unprotect_rtcp`` as pylibsrtp 1.0 declares them; libsrtp 3 changed them."""


def _binding() -> tuple[Any, Any] | None:
    try:
        from pylibsrtp._binding import ffi, lib
    except ImportError as exc:
        logger.info("pylibsrtp's cffi binding is not importable (%s)", exc)
        return None
    return ffi, lib


_BINDING = _binding()


def function_address(name: str) -> int | None:
    """The address of libsrtp's ``name``, if pylibsrtp has it with libsrtp 2's signature."""
    if _BINDING is None:
        return None
    ffi, lib = _BINDING
    function = ffi.addressof(lib, name)
    if ffi.typeof(function).cname != SIGNATURE:
        logger.warning("pylibsrtp's %s is %s, not %s: staying in Python", name, ffi.typeof(function).cname,
                       SIGNATURE)
        return None
    return int(ffi.cast("uintptr_t", function))


def context_address(session: pylibsrtp.Session) -> int:
    """The ``srtp_t`` inside ``session`` (pylibsrtp internal: ``Session._srtp``)."""
    assert _BINDING is not None, "context_address without pylibsrtp's binding"
    return int(_BINDING[0].cast("uintptr_t", session._srtp[0]))
