"""A participant who does not come back within the grace period leaves, once."""

from __future__ import annotations

from typing import Any

import pytest

from .signaling_harness import LiveServer, live  # noqa: F401

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def signaling_overrides() -> dict[str, Any]:
    return {"grace_seconds": 1}


async def test_grace_period_expiry_is_a_leave(live: LiveServer) -> None:
    chair = await live.bot("chair")
    rep = await live.bot("rep_a")
    rep_id, secret = rep.participant_id, rep.resume_secret
    await rep.kill()
    await chair.wait_event(lambda n, d: n == "participant_reconnecting" and d["participant_id"] == rep_id)
    left = await chair.wait_event("participant_left", 10)
    assert left[1] == {"meeting_id": live.world.meeting_x, "participant_id": rep_id,
                       "reason": "connection_lost"}

    late = await live.client(connect=False)
    await late.connect(resume=secret)
    with pytest.raises(Exception, match="bad_resume"):
        await late.join(resume=secret)
    await live.settle()
    left_rows = [e.payload for e in await live.events() if e.type == "participant_left"]
    assert [(p["participant_id"], p["reason"]) for p in left_rows] == [(rep_id, "connection_lost")]
