"""Real aiortc participants wired to a real SFU over loopback only."""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from server.sfu import Sfu, SfuSettings
from server.sfu.settings import FORWARDING_MODES

from .meeting import LOOPBACK, Meeting

PYTHON_SEND = ":python-send"
"""Suffix of a forwarding mode asked for indirectly: the packet path without the native sender."""


@pytest.fixture(params=FORWARDING_MODES)
def settings(request: pytest.FixtureRequest) -> SfuSettings:
    """SFU settings for loopback; every test using them runs on both forwarding paths
    ("packet:python-send", asked for indirectly: the packet path sending in Python)."""
    forwarding = request.param.removesuffix(PYTHON_SEND)
    return SfuSettings(
        ice_gather_addresses=LOOPBACK,
        allowed_networks=("127.0.0.0/8",),
        denied_networks=("10.0.0.0/8", "169.254.0.0/16"),
        keyframe_min_interval_s=0.5,
        forwarding=forwarding,
        native_send=not request.param.endswith(PYTHON_SEND),
    )


@pytest_asyncio.fixture
async def sfu(settings: SfuSettings) -> AsyncIterator[Sfu]:
    sfu = Sfu(settings)
    yield sfu
    await sfu.close()


@pytest_asyncio.fixture
async def meeting(sfu: Sfu) -> AsyncIterator[Meeting]:
    meeting = Meeting(sfu.room("meeting-1"))
    yield meeting
    await meeting.close()
